#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "pki/certificate.hpp"
#include "pki/extensions.hpp"

namespace istio_csr::actors::signing::policy {

/// Size limit of a workload CSR's PEM text. istio-agent's and ztunnel's
/// CSRs are under 2 KiB (an RSA-4096 one about 1.7 KiB); 8 KiB leaves room
/// for RSA-8192 and several identities.
constexpr std::size_t max_csr_pem_bytes = 8 * 1024;

/// Why a workload CSR was refused. Only for logs: the gRPC layer answers
/// every one of them with `Unauthenticated "request authenticate failure"`.
enum class csr_reason : std::uint8_t {
  /// Not exactly one canonical "CERTIFICATE REQUEST" PEM block, larger than
  /// `max_csr_pem_bytes`, not DER PKCS#10, attributes other than one
  /// extensionRequest, duplicate extensions, or a SubjectAltName that does
  /// not parse.
  malformed,
  /// The CSR's self-signature does not verify.
  bad_signature,
  /// DNS, IP or email SANs, or a non-empty subject CommonName.
  forbidden_names,
  /// An extension outside the allow-list, or a disallowed value in one.
  forbidden_extensions,
  /// The URI SANs are not exactly the caller's identities.
  identity_mismatch,
};

/// "malformed", "bad_signature", ...
std::string_view to_string(csr_reason reason);

/// A refusal with a human-readable detail (never secret: CSRs are public).
struct csr_rejection {
  csr_reason reason;
  std::string detail;
};

/// A CSR that passed `authorize_csr`: exactly the bytes that were checked.
/// What goes into the CertificateRequest is made from these bytes, never
/// from the caller's text (docs/security.md).
struct approved_csr {
  /// The DER that was checked.
  std::string der;
  /// Its SubjectPublicKeyInfo (DER).
  std::string public_key_der;
  /// The identities its URI SANs carry (the caller's, checked).
  std::vector<std::string> identities;

  /// A "CERTIFICATE REQUEST" PEM block of `der`.
  std::string pem() const;
};

/// Validates a workload CSR for callers with `identities` as istio-csr's
/// `authRequest` does after authentication (docs/upstream.md), and more
/// strictly where Go and we could read the same text differently, in this
/// order:
/// 1. at most `max_csr_pem_bytes`, exactly one canonical "CERTIFICATE
///    REQUEST" PEM block with nothing but white space around it
///    (`pki::pem_decode_exact`), DER PKCS#10 (upstream: the first PEM block
///    of any label, whatever surrounds it);
/// 2. its signature verifies;
/// 3. its attributes are one extensionRequest, without duplicate extensions
///    (`pki::csr::requested_extensions`); no DNS/IP/email SANs and no
///    non-empty CommonName;
/// 4. `validate_csr_extensions` passes;
/// 5. `identities_match(identities, URI SANs)`.
/// For impersonation, pass the single impersonated identity.
std::variant<approved_csr, csr_rejection>
authorize_csr(std::string_view csr_pem,
              const std::vector<std::string>& identities);

/// Whether the certificate an issuer returned is what was approved: the
/// same public key, URI SANs exactly `approved.identities` (as a multiset),
/// no other SANs and not a CA. nullopt when it is, else what differs. A
/// mismatch means the issuer signed something else than we checked: the
/// call fails and the certificate is never returned.
std::optional<std::string> check_issued_leaf(const pki::certificate& leaf,
                                             const approved_csr& approved);

/// Upstream `identitiesMatch`: both lists sorted are equal element by
/// element (so: same length, order-insensitive, duplicates count).
bool identities_match(std::vector<std::string> identities,
                      std::vector<std::string> uris);

/// Upstream `ValidateCSRExtentions`: every extension must be a valid
/// SubjectAltName, KeyUsage or ExtendedKeyUsage. Returns every violation
/// (empty: ok).
std::vector<std::string>
validate_csr_extensions(const std::vector<pki::x509_extension>& extensions);

/// Upstream `validateSubjectAltNameExtension`: `ext` is a SubjectAltName
/// whose value is one DER SEQUENCE without trailing bytes, each element
/// having tag number 6 (URI; the class is not checked). Returns the
/// violation, if any.
std::optional<std::string>
validate_subject_alt_name_extension(const pki::x509_extension& ext);

/// Upstream `validateKeyUsageExtension`: `value` must be exactly 4 bytes and
/// become all zero after clearing the bits of `03 02 07 80`
/// (digitalSignature) and `03 02 05 20` (keyEncipherment).
std::optional<std::string> validate_key_usage_extension(std::string_view value);

/// Upstream `validateExtendedKeyUsageExtension`: `ext` must be an
/// ExtendedKeyUsage extension ("non extended key usage extension"
/// otherwise) listing only serverAuth and clientAuth.
std::optional<std::string>
validate_ext_key_usage_extension(const pki::x509_extension& ext);

} // namespace istio_csr::actors::signing::policy
