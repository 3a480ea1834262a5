#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pki/extensions.hpp"

namespace istio_csr::actors::signing::policy {

/// Why a workload CSR was refused. Only for logs: the gRPC layer answers
/// every one of them with `Unauthenticated "request authenticate failure"`.
enum class csr_reason : std::uint8_t {
  /// No PEM block, not PKCS#10, or a SubjectAltName that does not parse.
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

/// Validates a workload CSR for callers with `identities` exactly as
/// istio-csr's `authRequest` does after authentication (spec §2.5), in this
/// order:
/// 1. the first PEM block (any label) parses as PKCS#10;
/// 2. its signature verifies;
/// 3. no DNS/IP/email SANs and no non-empty CommonName;
/// 4. `validate_csr_extensions` passes;
/// 5. `identities_match(identities, URI SANs)`.
/// For impersonation, pass the single impersonated identity.
/// Returns nullopt when the CSR is acceptable.
std::optional<csr_rejection>
authorize_csr(std::string_view csr_pem,
              const std::vector<std::string>& identities);

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
