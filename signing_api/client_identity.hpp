#pragma once

#include <string>
#include <vector>

namespace istio_csr::signing_api {

/// The identity of a caller that presented a client certificate which passed
/// verification (chain to the mesh roots, SPIFFE rules; the transport
/// checks). As istio's client-certificate authenticator: the identities are
/// all SAN values of the verified leaf.
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

} // namespace istio_csr::signing_api
