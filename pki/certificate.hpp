#pragma once

#include <chrono>
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

/// An X.509 certificate. Immutable; copies share the OpenSSL object.
class certificate {
 public:
  /// Parses the first "CERTIFICATE" PEM block of `pem` (other blocks before
  /// it are skipped).
  static caf::expected<certificate> from_pem(std::string_view pem);

  /// Parses DER. Trailing bytes are an error.
  static caf::expected<certificate> from_der(std::string_view der);

  /// Takes ownership of `x`, which must not be null.
  static certificate adopt(x509_ptr x);

  certificate(const certificate&);
  certificate& operator=(const certificate&);
  certificate(certificate&&) noexcept = default;
  certificate& operator=(certificate&&) noexcept = default;
  ~certificate() = default;

  /// One "CERTIFICATE" PEM block, newline-terminated.
  std::string to_pem() const;

  std::string to_der() const;

  /// The subject in OpenSSL's RFC 2253 one-line form, e.g. "CN=a,O=b".
  std::string subject_oneline() const;

  std::string issuer_oneline() const;

  distinguished_name subject() const;

  distinguished_name issuer() const;

  /// The serial number as lower-case hex without leading zeros ("0" for 0).
  std::string serial_hex() const;

  std::chrono::system_clock::time_point not_before() const;

  std::chrono::system_clock::time_point not_after() const;

  subject_alt_names sans() const;

  /// Whether BasicConstraints says CA:TRUE.
  bool is_ca() const;

  /// The BasicConstraints pathLenConstraint, if present.
  std::optional<int> path_len() const;

  /// The KeyUsage bits (see `key_usage::`), nullopt without the extension.
  std::optional<unsigned> key_usage() const;

  /// The ExtendedKeyUsage OIDs in dotted form; empty without the extension.
  std::vector<std::string> ext_key_usages() const;

  /// Every extension, raw.
  std::vector<x509_extension> extensions() const;

  pki::public_key public_key() const;

  /// The SubjectPublicKeyInfo as the certificate carries it (DER), without
  /// going through OpenSSL's key encoders (which are slow in OpenSSL 3.0).
  /// For a key that decodes, the same bytes as `public_key().to_der()`.
  std::string public_key_der() const;

  /// Whether `key` is the private half of this certificate's public key.
  bool matches(const private_key& key) const;

  /// Go's `CheckSignatureFrom(parent)`: `parent` may sign certificates
  /// (BasicConstraints CA:TRUE, or a v1/v2 certificate without it; KeyUsage,
  /// if present, has keyCertSign) and its key verifies this certificate's
  /// signature. Names are not compared.
  bool check_signature_from(const certificate& parent) const;

  /// The chain link cert-manager uses: this certificate's raw issuer name
  /// equals `issuer`'s raw subject name, and `check_signature_from(issuer)`.
  bool issued_by(const certificate& issuer) const;

  /// Go/cert-manager's `isSelfSignedCertificate`:
  /// `check_signature_from(*this)`.
  bool is_self_signed() const;

  /// SHA-256 of the DER, raw bytes.
  std::string fingerprint_sha256() const;

  /// Same DER encoding.
  bool operator==(const certificate& other) const;

  X509* native() const noexcept {
    return x_.get();
  }

 private:
  explicit certificate(x509_ptr x) : x_(std::move(x)) {}
  x509_ptr x_;
};

} // namespace istio_csr::pki
