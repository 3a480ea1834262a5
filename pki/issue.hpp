#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "caf/expected.hpp"

#include "pki/certificate.hpp"
#include "pki/csr.hpp"
#include "pki/names.hpp"
#include "pki/private_key.hpp"

namespace istio_csr::pki {

/// The content of a certificate to issue.
struct cert_template {
  distinguished_name subject;
  subject_alt_names sans;
  std::chrono::system_clock::time_point not_before
    = std::chrono::system_clock::now();
  std::chrono::system_clock::time_point not_after
    = std::chrono::system_clock::now() + std::chrono::hours{24};
  /// KeyUsage bits (`key_usage::`); 0 → no KeyUsage extension. The
  /// extension is marked critical.
  unsigned key_usage = 0;
  /// ExtendedKeyUsage OIDs; empty → no extension.
  std::vector<std::string> ext_key_usages;
  /// BasicConstraints is always written, critical, with this CA flag.
  bool is_ca = false;
  std::optional<int> path_len;
  /// Serial as raw big-endian bytes; empty → a random positive 128-bit one.
  std::string serial;
  /// Appended last, as given.
  std::vector<x509_extension> extra_extensions;
};

/// Issues a certificate for `subject_key` signed by `issuer` with
/// `issuer_key` (SHA-256 with RSA or ECDSA). Adds SubjectKeyIdentifier and
/// AuthorityKeyIdentifier. Errors if `issuer_key` does not match `issuer`.
caf::expected<certificate> issue(const cert_template& tmpl,
                                 const public_key& subject_key,
                                 const certificate& issuer,
                                 const private_key& issuer_key);

/// `issue` for the public key of `request`: its SubjectPublicKeyInfo is
/// copied as it is (no key is encoded or decoded, which is slow in OpenSSL
/// 3.0). Neither the CSR's signature nor anything else of it is checked:
/// that is the caller's (see `issue_from_csr`).
caf::expected<certificate> issue_for_request(const cert_template& tmpl,
                                             const csr& request,
                                             const certificate& issuer,
                                             const private_key& issuer_key);

/// Issues a self-signed certificate (issuer = subject) with `key`.
caf::expected<certificate> self_sign(const cert_template& tmpl,
                                     const private_key& key);

/// As cert-manager's CA issuer does: `tmpl` with its subject and SANs
/// replaced by the CSR's, for the CSR's public key. The caller sets usages,
/// validity and the CA flag in `tmpl`. Errors if the CSR's signature does not
/// verify or its SANs do not parse.
caf::expected<certificate> issue_from_csr(const csr& request,
                                          cert_template tmpl,
                                          const certificate& issuer,
                                          const private_key& issuer_key);

} // namespace istio_csr::pki
