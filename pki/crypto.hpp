#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "caf/expected.hpp"

#include "pki/private_key.hpp"

namespace istio_csr::pki {

/// Byte strings are `std::string` throughout this module.

/// SHA-256 of `data`, 32 raw bytes.
std::string sha256(std::string_view data);

/// Lower-case hex of `bytes`.
std::string hex(std::string_view bytes);

/// `n` bytes from OpenSSL's CSPRNG.
std::string random_bytes(std::size_t n);

/// Signs SHA-256(`data`): PKCS#1 v1.5 for RSA, a DER ECDSA-Sig-Value for EC.
caf::expected<std::string> sign_sha256(const private_key& key,
                                       std::string_view data);

/// Verifies a signature made by `sign_sha256`.
bool verify_sha256(const public_key& key, std::string_view data,
                   std::string_view signature);

/// Signs for a JWS: RS256 for RSA keys, ES256/ES384 (raw r||s) for EC.
caf::expected<std::string> jws_sign(const private_key& key,
                                    std::string_view signing_input);

/// Verifies a JWS signature made by `jws_sign` (RS256, or ES256/ES384 raw
/// r||s).
bool jws_verify(const public_key& key, std::string_view signing_input,
                std::string_view signature);

/// The JWS "alg" for `key`: "RS256", "ES256" or "ES384".
std::string jws_algorithm(const public_key& key);

/// Standard base64 with padding.
std::string base64_encode(std::string_view bytes);

/// Standard base64; padding optional, no whitespace. Errors on bad input.
caf::expected<std::string> base64_decode(std::string_view text);

/// Base64url without padding (JWT).
std::string base64url_encode(std::string_view bytes);

/// Base64url with or without padding. Errors on bad input.
caf::expected<std::string> base64url_decode(std::string_view text);

} // namespace istio_csr::pki
