#include "pki/private_key.hpp"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "pki/detail.hpp"
#include "pki/error.hpp"

namespace istio_csr::pki {

namespace {

pkey_ptr up_ref(EVP_PKEY* key) {
  if (key != nullptr)
    EVP_PKEY_up_ref(key);
  return pkey_ptr{key};
}

key_algorithm algorithm_of(const EVP_PKEY* key) {
  if (key == nullptr)
    return key_algorithm::other;
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA: return key_algorithm::rsa;
    case EVP_PKEY_EC: return key_algorithm::ec;
    default: return key_algorithm::other;
  }
}

} // namespace

// -- public_key ---------------------------------------------------------------

caf::expected<public_key> public_key::from_pem(std::string_view pem) {
  auto bio = detail::mem_bio(pem);
  pkey_ptr key{PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr)};
  if (!key)
    return invalid("cannot parse PUBLIC KEY PEM");
  return public_key{std::move(key)};
}

caf::expected<public_key> public_key::from_der(std::string_view der) {
  auto p = reinterpret_cast<const unsigned char*>(der.data());
  pkey_ptr key{d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()))};
  if (!key)
    return invalid("cannot parse DER public key");
  if (p != reinterpret_cast<const unsigned char*>(der.data()) + der.size())
    return invalid("trailing data after DER public key");
  return public_key{std::move(key)};
}

public_key public_key::from_native(EVP_PKEY* key) {
  return public_key{up_ref(key)};
}

public_key::public_key(const public_key& other)
  : key_(up_ref(other.native())) {}

public_key& public_key::operator=(const public_key& other) {
  if (this != &other)
    key_ = up_ref(other.native());
  return *this;
}

key_algorithm public_key::algorithm() const noexcept {
  return algorithm_of(key_.get());
}

int public_key::bits() const noexcept {
  return key_ ? EVP_PKEY_get_bits(key_.get()) : 0;
}

std::string public_key::to_der() const {
  return detail::to_der(key_.get(), i2d_PUBKEY);
}

std::string public_key::to_pem() const {
  bio_ptr bio{BIO_new(BIO_s_mem())};
  PEM_write_bio_PUBKEY(bio.get(), key_.get());
  return detail::bio_string(bio.get());
}

bool public_key::operator==(const public_key& other) const noexcept {
  if (!key_ || !other.key_)
    return key_ == other.key_;
  auto res = EVP_PKEY_eq(key_.get(), other.key_.get()) == 1;
  ERR_clear_error();
  return res;
}

// -- private_key --------------------------------------------------------------

caf::expected<private_key> private_key::generate_rsa(int bits) {
  if (bits < 1024 || bits > 16384)
    return invalid("unsupported RSA key size " + std::to_string(bits));
  pkey_ptr key{EVP_RSA_gen(static_cast<unsigned>(bits))};
  if (!key)
    return openssl_failure("cannot generate RSA key");
  return private_key{std::move(key)};
}

caf::expected<private_key> private_key::generate_ec(int curve_bits) {
  const char* curve = nullptr;
  if (curve_bits == 256)
    curve = "P-256";
  else if (curve_bits == 384)
    curve = "P-384";
  else
    return invalid("unsupported EC key size " + std::to_string(curve_bits)
                   + " (supported: 256, 384)");
  pkey_ptr key{EVP_EC_gen(curve)};
  if (!key)
    return openssl_failure("cannot generate EC key");
  return private_key{std::move(key)};
}

caf::expected<private_key> private_key::from_pem(std::string_view pem) {
  auto bio = detail::mem_bio(pem);
  // A null password callback with an empty passphrase: encrypted keys fail
  // instead of prompting on the terminal.
  char empty[] = "";
  pkey_ptr key{PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, empty)};
  if (!key)
    return invalid("cannot parse private key PEM");
  auto alg = algorithm_of(key.get());
  if (alg == key_algorithm::other)
    return invalid("unsupported private key algorithm");
  return private_key{std::move(key)};
}

private_key::private_key(const private_key& other)
  : key_(up_ref(other.native())) {}

private_key& private_key::operator=(const private_key& other) {
  if (this != &other)
    key_ = up_ref(other.native());
  return *this;
}

key_algorithm private_key::algorithm() const noexcept {
  return algorithm_of(key_.get());
}

int private_key::bits() const noexcept {
  return key_ ? EVP_PKEY_get_bits(key_.get()) : 0;
}

std::string private_key::to_pem() const {
  // BIO_s_secmem clears its buffer when freed; the returned string is the
  // caller's to keep secret.
  bio_ptr bio{BIO_new(BIO_s_secmem())};
  PEM_write_bio_PKCS8PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0,
                                nullptr, nullptr);
  return detail::bio_string(bio.get());
}

std::string private_key::to_traditional_pem() const {
  bio_ptr bio{BIO_new(BIO_s_secmem())};
  PEM_write_bio_PrivateKey_traditional(bio.get(), key_.get(), nullptr, nullptr,
                                       0, nullptr, nullptr);
  return detail::bio_string(bio.get());
}

pki::public_key private_key::public_key() const {
  // A copy through DER, so that public keys never carry private material.
  auto res = pki::public_key::from_der(detail::to_der(key_.get(), i2d_PUBKEY));
  if (!res)
    return pki::public_key::from_native(key_.get());
  return std::move(*res);
}

} // namespace istio_csr::pki
