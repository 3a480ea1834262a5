#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "caf/expected.hpp"

#include "devcluster/issuer/issuers.hpp"
#include "pki/certificate.hpp"

namespace istio_csr::devcluster::issuer {

/// cert-manager's default `spec.duration` (90 days).
inline constexpr std::chrono::hours default_duration{24 * 90};

/// The annotation naming the Secret with the private key of a request
/// (selfSigned issuers sign with it).
inline constexpr std::string_view private_key_secret_annotation
  = "cert-manager.io/private-key-secret-name";

/// KeyUsage bits and ExtendedKeyUsage OIDs.
struct key_usages {
  unsigned bits = 0;
  std::vector<std::string> extended;
};

/// cert-manager's `BuildKeyUsages`: `cert sign` added for a CA; no usages
/// means `digital signature, key encipherment`; an unknown usage is an error
/// (`unknown key usages: [x y]`).
caf::expected<key_usages> map_key_usages(const std::vector<std::string>& usages,
                                         bool is_ca);

/// A certificate chain as cert-manager's `ParseSingleCertificateChain`
/// returns it.
struct pem_chain {
  /// The leaf and its intermediates, without a self-signed root (unless the
  /// leaf is that root).
  std::string chain_pem;
  /// The top of the chain (the root when the chain reaches one).
  std::string ca_pem;
};

/// Orders `certs` (duplicates dropped) into one chain from `leaf`. Errors
/// (`certificate chain is malformed or broken`) when some certificate does
/// not belong to it.
caf::expected<pem_chain> single_chain(const pki::certificate& leaf,
                                      const std::vector<pki::certificate>& cas);

/// The answer of an issuer to one request.
struct sign_outcome {
  enum class state { issued, failed, pending };
  state what = state::failed;
  std::string certificate_pem; ///< issued: the chain
  std::string ca_pem;          ///< issued: the CA (may be empty)
  std::string message;         ///< failed/pending: why
};

/// Signs the CertificateRequest `cr` with the ready issuer `iss` at `now`, as
/// cert-manager's CA and selfSigned issuers do. Secrets (the selfSigned
/// private key) come from `secrets`.
sign_outcome sign_request(const nlohmann::json& cr, const evaluated_issuer& iss,
                          const secret_lookup& secrets,
                          std::chrono::system_clock::time_point now);

} // namespace istio_csr::devcluster::issuer
