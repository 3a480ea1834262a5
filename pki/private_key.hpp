#pragma once

#include <string>
#include <string_view>

#include "caf/expected.hpp"

#include "pki/handles.hpp"

namespace istio_csr::pki {

/// The algorithm of a key.
enum class key_algorithm { rsa, ec, other };

/// A public key (RSA or EC). Immutable; copies share the OpenSSL object.
class public_key {
 public:
  /// Parses a "PUBLIC KEY" PEM (SubjectPublicKeyInfo).
  static caf::expected<public_key> from_pem(std::string_view pem);

  /// Parses a DER SubjectPublicKeyInfo.
  static caf::expected<public_key> from_der(std::string_view der);

  /// Takes one reference of `key` (which stays owned by the caller).
  static public_key from_native(EVP_PKEY* key);

  public_key(const public_key&);
  public_key& operator=(const public_key&);
  public_key(public_key&&) noexcept = default;
  public_key& operator=(public_key&&) noexcept = default;
  ~public_key() = default;

  key_algorithm algorithm() const noexcept;

  /// Modulus bits for RSA, curve bits (256, 384) for EC.
  int bits() const noexcept;

  /// DER SubjectPublicKeyInfo.
  std::string to_der() const;

  /// "PUBLIC KEY" PEM.
  std::string to_pem() const;

  /// Whether both keys are the same public key.
  bool operator==(const public_key& other) const noexcept;

  EVP_PKEY* native() const noexcept {
    return key_.get();
  }

 private:
  explicit public_key(pkey_ptr key) : key_(std::move(key)) {}
  pkey_ptr key_;
};

/// A private key (RSA or EC P-256/P-384). Immutable; copies share the
/// OpenSSL object. OpenSSL clears the key material when the last copy goes.
/// Never log what `to_pem` returns.
class private_key {
 public:
  /// A new RSA key of `bits` (at least 1024; 2048+ for anything real).
  static caf::expected<private_key> generate_rsa(int bits);

  /// A new ECDSA key on P-256 (`curve_bits` = 256) or P-384 (384).
  static caf::expected<private_key> generate_ec(int curve_bits);

  /// Parses the first private key PEM of `pem`: PKCS#8 "PRIVATE KEY",
  /// PKCS#1 "RSA PRIVATE KEY" or SEC1 "EC PRIVATE KEY" (unencrypted).
  static caf::expected<private_key> from_pem(std::string_view pem);

  private_key(const private_key&);
  private_key& operator=(const private_key&);
  private_key(private_key&&) noexcept = default;
  private_key& operator=(private_key&&) noexcept = default;
  ~private_key() = default;

  key_algorithm algorithm() const noexcept;

  /// Modulus bits for RSA, curve bits (256, 384) for EC.
  int bits() const noexcept;

  /// Unencrypted PKCS#8 "PRIVATE KEY" PEM.
  std::string to_pem() const;

  /// "RSA PRIVATE KEY" (PKCS#1) for RSA, "EC PRIVATE KEY" (SEC1) for EC: the
  /// encoding istio's `pkiutil.GenCSR` uses.
  std::string to_traditional_pem() const;

  /// The public half.
  pki::public_key public_key() const;

  EVP_PKEY* native() const noexcept {
    return key_.get();
  }

 private:
  explicit private_key(pkey_ptr key) : key_(std::move(key)) {}
  pkey_ptr key_;
};

} // namespace istio_csr::pki
