#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "kube/api/condition.hpp"

namespace istio_csr::devcluster::issuer {

/// Sets the condition `c.type` in `obj.status.conditions` as cert-manager's
/// `SetCertificateRequestCondition`/`SetIssuerCondition` do: an existing entry
/// keeps its `lastTransitionTime` unless its status changes; a new one gets
/// `now`. `observed_generation`, when given, is written as
/// `observedGeneration`. Returns whether anything other than times changed.
bool set_condition(nlohmann::json& obj, const kube::condition& c,
                   std::chrono::system_clock::time_point now,
                   std::optional<int64_t> observed_generation = std::nullopt);

/// Removes the condition `type`; returns whether it was there.
bool remove_condition(nlohmann::json& obj, std::string_view type);

/// The JSON entry of condition `type`, or nullptr.
const nlohmann::json* condition_json(const nlohmann::json& obj,
                                     std::string_view type);

/// Whether `obj` has condition `type` with `status`.
bool has_condition(const nlohmann::json& obj, std::string_view type,
                   std::string_view status);

/// `data[key]` of a Secret, base64-decoded; nullopt when absent or invalid.
std::optional<std::string> secret_data(const nlohmann::json& secret,
                                       std::string_view key);

} // namespace istio_csr::devcluster::issuer
