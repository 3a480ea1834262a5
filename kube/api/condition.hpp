#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kube/api/object.hpp"

namespace istio_csr::kube {

/// One entry of `status.conditions` (cert-manager and core types).
struct condition {
  std::string type;
  std::string status; ///< "True", "False" or "Unknown"
  std::string reason;
  std::string message;

  friend bool operator==(const condition&, const condition&) = default;
};

/// Reads `status.conditions` of `obj`.
std::vector<condition> conditions_of(const nlohmann::json& obj);

/// The condition of `type`, if present.
std::optional<condition> find_condition(const std::vector<condition>& all,
                                        std::string_view type);

/// Renders conditions for error messages, e.g.
/// `[Ready=False (Failed: the issuer is broken)]`.
std::string to_string(const std::vector<condition>& all);

/// A cert-manager `issuerRef`.
struct issuer_ref {
  std::string name;
  std::string kind;  ///< e.g. "Issuer", "ClusterIssuer"
  std::string group; ///< e.g. "cert-manager.io"

  friend bool operator==(const issuer_ref&, const issuer_ref&) = default;
};

nlohmann::json to_json(const issuer_ref& ref);

/// Reads an `issuerRef` object (missing fields read empty).
issuer_ref issuer_ref_of(const nlohmann::json* member);

} // namespace istio_csr::kube
