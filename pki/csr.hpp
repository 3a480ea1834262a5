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
class csr {
 public:
  /// Decodes the first PEM block of `pem` whatever its label (as Go's
  /// `pem.Decode` in istio-csr does), then parses it as PKCS#10.
  static caf::expected<csr> from_pem(std::string_view pem);

  /// Parses PKCS#10 DER. Trailing bytes are an error.
  static caf::expected<csr> from_der(std::string_view der);

  csr(const csr&);
  csr& operator=(const csr&);
  csr(csr&&) noexcept = default;
  csr& operator=(csr&&) noexcept = default;
  ~csr() = default;

  /// A "CERTIFICATE REQUEST" PEM block.
  std::string to_pem() const;

  std::string to_der() const;

  /// Whether the self-signature verifies with the CSR's own public key.
  bool verify_signature() const;

  distinguished_name subject() const;

  /// The subject CN, nullopt when absent (an empty CN is engaged and empty).
  std::optional<std::string> common_name() const;

  /// SANs from the requested SubjectAltName extension; empty without one.
  /// Errors if the extension does not parse.
  caf::expected<subject_alt_names> sans() const;

  /// Every requested extension, raw, in order.
  std::vector<x509_extension> extensions() const;

  pki::public_key public_key() const;

  X509_REQ* native() const noexcept {
    return req_.get();
  }

 private:
  explicit csr(x509_req_ptr req) : req_(std::move(req)) {}
  x509_req_ptr req_;
};

/// What `make_csr` puts into a CSR. The defaults give istio's shape (spec
/// §4): subject "O=" only (one empty Organization), no CN, the SANs in one
/// critical SubjectAltName extension (omitted when `sans` is empty).
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
