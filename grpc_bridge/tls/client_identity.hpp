#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "caf/expected.hpp"

namespace istio_csr::pki {
class certificate;
} // namespace istio_csr::pki

namespace istio_csr::grpc_bridge {

/// The identity of a caller that presented a client certificate which passed
/// verification (chain to the mesh roots, SPIFFE rules). Spec §2.3 "client
/// certificate": the identities are all SAN values of the verified leaf.
struct client_cert_identity {
  /// The single URI SAN, `spiffe://<td>/ns/<ns>/sa/<sa>`.
  std::string spiffe_id;
  /// SANs by type, in certificate order. IPs are in text form ("10.0.0.1"),
  /// where istio's authenticator uses the raw address bytes: neither can
  /// ever equal a SPIFFE URI, so the difference is not observable.
  std::vector<std::string> uris;
  std::vector<std::string> dns;
  std::vector<std::string> ips;

  /// Every SAN value: URIs, then DNS names, then IPs.
  std::vector<std::string> identities() const;

  bool operator==(const client_cert_identity&) const = default;
};

/// The parts of a SPIFFE identity as istio's `spiffe.ParseIdentity` sees
/// them: `spiffe://<trust_domain>/ns/<ns>/sa/<sa>`, exactly five
/// '/'-separated segments after the scheme.
struct spiffe_identity {
  std::string trust_domain;
  std::string ns;
  std::string service_account;
};

/// Parses `uri` like istio's `spiffe.ParseIdentity`.
caf::expected<spiffe_identity> parse_spiffe_id(std::string_view uri);

/// Applies istio's PeerCertVerifier rules to a client leaf whose chain has
/// already been verified: exactly one URI SAN, a SPIFFE identity, in
/// `trust_domain`. Returns the identity, or an error saying why not.
caf::expected<client_cert_identity>
check_client_leaf(const pki::certificate& leaf, std::string_view trust_domain);

} // namespace istio_csr::grpc_bridge
