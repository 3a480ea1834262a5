#pragma once

#include <string>
#include <string_view>

namespace istio_csr::kube {

/// Describes one REST resource of the API server. Descriptors are plain
/// constants; their strings must outlive every request naming them (string
/// literals, as in `resources::`).
struct resource {
  std::string_view group;   ///< empty for the core group
  std::string_view version; ///< e.g. "v1"
  std::string_view plural;  ///< URL segment, e.g. "configmaps"
  std::string_view kind;    ///< e.g. "ConfigMap"
  bool namespaced = true;
  /// Whether a create is safe to retry after it may have reached the
  /// server: true for virtual resources that store nothing (TokenReview).
  bool create_is_idempotent = false;

  /// `v1` or `group/version`.
  std::string api_version() const;

  /// `/api/v1` or `/apis/group/version`.
  std::string group_path() const;

  /// The collection URL path, e.g. `/api/v1/namespaces/ns/configmaps`;
  /// `namespace_` empty for a cluster-wide collection.
  std::string collection_path(std::string_view namespace_) const;

  /// The object URL path, plus `/subresource` when not empty.
  std::string object_path(std::string_view namespace_, std::string_view name,
                          std::string_view subresource = {}) const;

  friend bool operator==(const resource&, const resource&) = default;
};

/// The resources the agent and devcluster use.
namespace resources {

inline constexpr resource namespaces{"", "v1", "namespaces", "Namespace",
                                     false};
inline constexpr resource configmaps{"", "v1", "configmaps", "ConfigMap"};
inline constexpr resource secrets{"", "v1", "secrets", "Secret"};
inline constexpr resource pods{"", "v1", "pods", "Pod"};
/// The `token` subresource (TokenRequest) is a create on this resource.
inline constexpr resource serviceaccounts{"", "v1", "serviceaccounts",
                                          "ServiceAccount"};
inline constexpr resource events{"", "v1", "events", "Event"};
inline constexpr resource leases{"coordination.k8s.io", "v1", "leases",
                                 "Lease"};
inline constexpr resource tokenreviews{
  "authentication.k8s.io", "v1", "tokenreviews", "TokenReview", false, true};
inline constexpr resource certificaterequests{
  "cert-manager.io", "v1", "certificaterequests", "CertificateRequest"};
inline constexpr resource certificates{"cert-manager.io", "v1", "certificates",
                                       "Certificate"};
inline constexpr resource issuers{"cert-manager.io", "v1", "issuers", "Issuer"};
inline constexpr resource clusterissuers{
  "cert-manager.io", "v1", "clusterissuers", "ClusterIssuer", false};

} // namespace resources

/// Percent-encodes everything but RFC 3986 unreserved characters.
std::string url_encode(std::string_view text);

} // namespace istio_csr::kube
