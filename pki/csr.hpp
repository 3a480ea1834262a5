#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "caf/expected.hpp"

#include "pki/extensions.hpp"
#include "pki/handles.hpp"
#include "pki/names.hpp"
#include "pki/private_key.hpp"

namespace istio_csr::pki {

/// A PKCS#10 certificate signing request. Immutable; copies share the
/// OpenSSL object. Parsing does not check the signature: call
/// `verify_signature()`.
///
/// Two readings exist on purpose: what Go (cert-manager) reads from a CSR
/// (`from_pem`, `go_extensions`, `sans`), for code that imitates
/// cert-manager; and the strict reading the agent checks workload CSRs with
/// (`from_pem_exact`, `requested_extensions`), which refuses everything
/// that Go and OpenSSL could read differently.
class csr {
 public:
  /// Decodes the first PEM block of `pem` whatever its label, as Go's
  /// `pem.Decode` does (cert-manager's reading of `spec.request`), then
  /// parses it as PKCS#10.
  static caf::expected<csr> from_pem(std::string_view pem);

  /// `pem` must be exactly one canonical "CERTIFICATE REQUEST" block with
  /// nothing but white space around it (`pem_decode_exact`); then parses it
  /// as PKCS#10.
  static caf::expected<csr> from_pem_exact(std::string_view pem);

  /// Parses PKCS#10 DER. It must be DER as Go reads it (`der::is_strict`:
  /// definite minimal lengths, no constructed strings); trailing bytes are
  /// an error.
  static caf::expected<csr> from_der(std::string_view der);

  csr(const csr&);
  csr& operator=(const csr&);
  csr(csr&&) noexcept = default;
  csr& operator=(csr&&) noexcept = default;
  ~csr() = default;

  /// A "CERTIFICATE REQUEST" PEM block of `to_der()`.
  std::string to_pem() const;

  /// Exactly the DER this object was parsed from.
  const std::string& to_der() const noexcept {
    return der_;
  }

  /// Whether the self-signature verifies with the CSR's own public key.
  bool verify_signature() const;

  distinguished_name subject() const;

  /// The subject CN, nullopt when absent (an empty CN is engaged and empty).
  /// With several CNs, the last one (as Go).
  std::optional<std::string> common_name() const;

  /// Whether any CommonName attribute of the subject has a non-empty value
  /// (whatever its string type, decodable or not).
  bool has_common_name() const;

  /// SANs as Go reads them: from the last SubjectAltName extension of
  /// `go_extensions()`; empty without one. Errors if the extensions or the
  /// SAN do not parse.
  caf::expected<subject_alt_names> sans() const;

  /// The requested extensions as Go's `x509.ParseCertificateRequest` reads
  /// them: every `extensionRequest` attribute (first value of each) in order,
  /// merged; attributes that do not parse or have another type are ignored
  /// (Microsoft's extension-request attribute too). Errors where Go does (an
  /// extension list that does not parse).
  caf::expected<std::vector<x509_extension>> go_extensions() const;

  /// The requested extensions, strictly: the CSR may have no attribute but
  /// one `extensionRequest` with exactly one value, a SEQUENCE of
  /// extensions (OID, optional BOOLEAN, OCTET STRING) without duplicate
  /// OIDs. Anything else is an error, so that no two readers can disagree
  /// on what is requested.
  caf::expected<std::vector<x509_extension>> requested_extensions() const;

  pki::public_key public_key() const;

  /// The SubjectPublicKeyInfo as the CSR carries it (DER), without going
  /// through OpenSSL's key encoders (which are slow in OpenSSL 3.0). For a
  /// key that decodes, the same bytes as `public_key().to_der()`.
  std::string public_key_der() const;

  X509_REQ* native() const noexcept {
    return req_.get();
  }

 private:
  csr(x509_req_ptr req, std::string der)
    : req_(std::move(req)), der_(std::move(der)) {}
  x509_req_ptr req_;
  /// The DER this object was parsed from.
  std::string der_;
};

/// What `make_csr` puts into a CSR. The defaults give istio's shape
/// (docs/upstream.md §4): subject "O=" only (one empty Organization), no CN,
/// the SANs in one critical SubjectAltName extension (omitted when `sans` is
/// empty).
struct csr_template {
  distinguished_name subject{std::nullopt, {""}, {}};
  subject_alt_names sans;
  bool san_critical = true;
  /// Added after the SAN extension, as given (tests use this for KeyUsage,
  /// EKU, BasicConstraints or malformed values).
  std::vector<x509_extension> extra_extensions;
};

/// Builds and signs (SHA-256) a CSR with `key`.
caf::expected<csr> make_csr(const private_key& key, const csr_template& tmpl);

} // namespace istio_csr::pki
