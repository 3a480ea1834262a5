#pragma once

#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace istio_csr::devcluster {

/// How the API server validates an object's name.
enum class name_rule {
  dns1123_subdomain, ///< most objects
  dns1123_label,     ///< namespaces
  path_segment,      ///< events and other free-form names
};

/// One resource the devcluster serves (e.g. core/v1 configmaps).
struct resource_type {
  /// Dense index, usable as a vector index.
  size_t id = 0;
  std::string group;    ///< "" for core
  std::string version;  ///< "v1"
  std::string resource; ///< plural, e.g. "configmaps"
  std::string singular; ///< e.g. "configmap"
  std::string kind;     ///< e.g. "ConfigMap"
  bool namespaced = true;
  /// A custom resource (CRD): list items carry kind/apiVersion, strategic
  /// merge patch is unsupported, generation is tracked.
  bool custom = false;
  /// Has a `/status` subresource: the main resource ignores status.
  bool has_status = false;
  /// `metadata.generation` is maintained (bumped on non-status changes).
  bool has_generation = false;
  /// PUT on a missing object creates it.
  bool create_on_update = false;
  /// Stored (false for virtual, create-only resources like TokenReview).
  bool stored = true;
  /// DELETE answers with the deleted object instead of a Status.
  bool delete_returns_object = false;
  name_rule names = name_rule::dns1123_subdomain;
  std::vector<std::string> verbs;
  std::vector<std::string> short_names;
  std::vector<std::string> categories;
  /// Field selectors accepted besides metadata.name and metadata.namespace.
  std::vector<std::string> selectable_fields;
  /// Subresources for discovery: name, kind, verbs.
  struct subresource {
    std::string name;
    std::string group; ///< group of the subresource's kind (tokens)
    std::string version;
    std::string kind;
    std::vector<std::string> verbs;
  };
  std::vector<subresource> subresources;

  /// "v1" or "group/version".
  std::string api_version() const {
    return group.empty() ? version : group + "/" + version;
  }

  /// "configmaps" or "certificaterequests.cert-manager.io" (errors).
  std::string group_resource() const {
    return group.empty() ? resource : resource + "." + group;
  }

  /// "ConfigMap" or "CertificateRequest.cert-manager.io" (Invalid errors).
  std::string group_kind() const {
    return group.empty() ? kind : kind + "." + group;
  }

  bool allows_field(std::string_view field) const;
};

/// The API groups and resources devcluster serves, in discovery order.
class resource_registry {
 public:
  /// The built-in set: core/v1, coordination.k8s.io/v1,
  /// authentication.k8s.io/v1 and cert-manager.io/v1.
  resource_registry();

  const resource_type* find(std::string_view group, std::string_view version,
                            std::string_view resource) const;

  /// Shorthand for core/v1 resources.
  const resource_type& core(std::string_view resource) const;

  const std::deque<resource_type>& all() const noexcept {
    return types_;
  }

  /// API groups except core, in order of registration, each with its
  /// versions (always one here).
  std::vector<std::string> groups() const;

 private:
  resource_type& add(resource_type t);
  std::deque<resource_type> types_;
};

} // namespace istio_csr::devcluster
