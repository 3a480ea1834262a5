#pragma once

#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

namespace istio_csr::actors::ambient {

/// What node authorization needs of one pod, as views into its record.
struct pod_fields {
  std::string_view namespace_;
  std::string_view name;
  std::string_view uid;
  /// `spec.serviceAccountName`.
  std::string_view service_account;
  /// `spec.nodeName` (empty while unscheduled).
  std::string_view node;
  /// `status.phase`.
  std::string_view phase;
};

/// The pod informer's transform: turns a Pod into its compact record, a
/// JSON string holding `namespace`, `name`, `uid`, `serviceAccountName`,
/// `nodeName` and `phase` separated by U+001F (a character no Kubernetes
/// name, uid or phase contains). One heap string of about 120 bytes
/// instead of a JSON object tree (docs/benchmarks.md has the figures); the
/// informer cache, its events and the pod index share it.
nlohmann::json make_pod_record(nlohmann::json pod);

/// The same record from its fields (tests, benchmarks).
nlohmann::json pod_record(const pod_fields& fields);

/// The fields of a record (views into it), or nullopt if `record` is not
/// one.
std::optional<pod_fields> read_pod_record(const nlohmann::json& record);

/// Refused: the fields would view a temporary.
std::optional<pod_fields> read_pod_record(nlohmann::json&&) = delete;

/// Whether a pod in `phase` counts as running on its node: every phase but
/// `Failed`, as istiod's informer filter (`status.phase!=Failed`).
inline bool counts(std::string_view phase) noexcept {
  return phase != "Failed";
}

} // namespace istio_csr::actors::ambient
