#pragma once

// The cryptography devcluster needs at start-up (its CAs, its serving
// certificate, the service-account signing key) and for tokens (RS256),
// as a small adapter over pki/ (icsr_pki) that throws on failure: devcluster
// only creates keys and certificates while starting, where failing is fatal.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pki/certificate.hpp"
#include "pki/private_key.hpp"

namespace istio_csr::devcluster {

/// Standard base64 with padding.
std::string base64_encode(std::string_view data);

/// Decodes standard base64 strictly, as Go's StdEncoding does for `[]byte`
/// JSON fields (padding required, no stray bits); nullopt on malformed input.
std::optional<std::string> base64_decode(std::string_view text);

/// base64url without padding (JWT segments).
std::string base64url_encode(std::string_view data);

/// Decodes unpadded base64url; nullopt on malformed input.
std::optional<std::string> base64url_decode(std::string_view text);

/// Raw SHA-256 digest.
std::string sha256(std::string_view data);

/// A private key (RSA or EC P-256). Throws std::runtime_error on failure.
class key_pair {
 public:
  static key_pair generate_ec_p256();
  static key_pair generate_rsa(int bits);

  /// PKCS#8 PEM. Never log it.
  std::string private_pem() const;

  /// DER SubjectPublicKeyInfo.
  std::string public_der() const;

  /// RSA modulus and exponent (big-endian bytes), for a JWK.
  std::pair<std::string, std::string> rsa_public_numbers() const;

  /// JWS signature of `data`: RS256 for RSA keys.
  std::string sign_sha256(std::string_view data) const;

  /// Verifies a signature made by `sign_sha256`.
  bool verify_sha256(std::string_view data, std::string_view sig) const;

  const pki::private_key& key() const noexcept {
    return key_;
  }

 private:
  explicit key_pair(pki::private_key key) : key_(std::move(key)) {}
  pki::private_key key_;
};

/// A certificate authority held in memory.
class cert_authority {
 public:
  /// A self-signed CA certificate for `key` (CA:TRUE, keyCertSign, cRLSign).
  static cert_authority self_signed(key_pair key, const std::string& cn,
                                    const std::string& org,
                                    std::chrono::hours validity);

  /// A leaf certificate for `leaf_key`, signed by this CA, for server and
  /// client auth, with the given DNS and IP subject alternative names.
  std::string issue(const key_pair& leaf_key, const std::string& cn,
                    const std::vector<std::string>& dns_names,
                    const std::vector<std::string>& ips,
                    std::chrono::hours validity) const;

  const std::string& cert_pem() const noexcept {
    return cert_pem_;
  }

  const key_pair& key() const noexcept {
    return key_;
  }

 private:
  cert_authority(key_pair key, pki::certificate cert, std::string pem)
    : key_(std::move(key)), cert_(std::move(cert)), cert_pem_(std::move(pem)) {}
  key_pair key_;
  pki::certificate cert_;
  std::string cert_pem_;
};

} // namespace istio_csr::devcluster
