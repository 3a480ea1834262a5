#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "caf/expected.hpp"

#include "pki/certificate.hpp"

namespace istio_csr::actors::signing::policy {

/// Size limit of a CertificateRequest's `status.certificate`
/// (docs/upstream.md §2.7).
constexpr std::size_t max_chain_pem_bytes = 95'000;

/// Size limit of a root CA bundle (docs/upstream.md §4, §4.1).
constexpr std::size_t max_root_bundle_bytes = 330'000;

/// The mesh roots: the PEM exactly as loaded (it is sent byte for byte as
/// the last `cert_chain` element and written to ConfigMaps) and its parsed
/// certificates (the verification pool).
struct root_bundle {
  std::string pem;
  std::vector<pki::certificate> certs;
};

/// Loads a root bundle: "root CA bundle is empty" for empty input, else
/// every PEM block must be a certificate, at most `max_root_bundle_bytes`,
/// at least one certificate.
caf::expected<root_bundle> load_root_bundle(std::string pem);

/// cert-manager's `ParseSingleCertificateChainPEM` (limit
/// `max_chain_pem_bytes`): decodes the certificates, removes duplicates,
/// links them leaf → up by raw issuer/subject names and signatures
/// whatever the input order, and drops a self-signed top unless it is the
/// only certificate. A certificate that links to no other one: "certificate
/// chain is malformed or broken". Result: leaf first.
caf::expected<std::vector<pki::certificate>>
parse_single_chain(std::string_view pem);

/// Upstream `parseCertificateBundle` (docs/upstream.md §2.7):
/// `parse_single_chain` on the CertificateRequest's `status.certificate`, then
/// verification of the leaf against `roots.certs` with the rest as
/// intermediates, for clientAuth or serverAuth. Result: each chain certificate
/// as its own PEM string, then `roots.pem` as one final element. On success,
/// `leaf` (if not null) receives the parsed leaf.
caf::expected<std::vector<std::string>>
build_response_chain(std::string_view issued_pem, const root_bundle& roots,
                     std::optional<pki::certificate>* leaf = nullptr);

} // namespace istio_csr::actors::signing::policy
