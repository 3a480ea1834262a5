#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "devcluster/resources.hpp"

namespace istio_csr::devcluster {

/// Discovery documents (legacy and aggregated) and the minimal OpenAPI v3
/// documents kubectl needs, all derived from the registry.
class discovery {
 public:
  discovery(const resource_registry& registry, std::string server_address);

  /// `/api` (APIVersions).
  nlohmann::json core_versions() const;

  /// `/apis` (APIGroupList).
  nlohmann::json group_list() const;

  /// `/apis/G` (APIGroup); null if unknown.
  nlohmann::json group(const std::string& name) const;

  /// `/api/v1` or `/apis/G/V` (APIResourceList); null if unknown.
  nlohmann::json resource_list(const std::string& group,
                               const std::string& version) const;

  /// Aggregated discovery (`APIGroupDiscoveryList`) for `/api` (core) or
  /// `/apis` (everything else); `api_version` is "apidiscovery.k8s.io/v2"
  /// or ".../v2beta1".
  nlohmann::json aggregated(bool core, const std::string& api_version) const;

  /// `/openapi/v3`: the paths index.
  nlohmann::json openapi_index() const;

  /// `/openapi/v3/api/v1` or `/openapi/v3/apis/G/V`; null if unknown.
  /// `gv_path` is "api/v1" or "apis/G/V".
  nlohmann::json openapi_document(const std::string& gv_path) const;

  /// `/version`.
  static nlohmann::json version();

 private:
  nlohmann::json resource_entry(const resource_type& t) const;
  const resource_registry& registry_;
  std::string server_address_;
};

} // namespace istio_csr::devcluster
