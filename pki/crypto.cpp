#include "pki/crypto.hpp"

#include <array>
#include <cstdint>
#include <cstdlib>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "pki/error.hpp"

namespace istio_csr::pki {

namespace {

constexpr char std_alphabet[]
  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char url_alphabet[]
  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string encode(std::string_view in, const char* alphabet, bool pad) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t v
      = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  auto rest = in.size() - i;
  if (rest == 1) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    if (pad)
      out += "==";
  } else if (rest == 2) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    if (pad)
      out += '=';
  }
  return out;
}

caf::expected<std::string> decode(std::string_view in, const char* alphabet) {
  std::array<int, 256> table;
  table.fill(-1);
  for (int i = 0; i < 64; ++i)
    table[uint8_t(alphabet[i])] = i;
  // Strip padding: at most two '=' at the very end, and only where the
  // length makes them meaningful.
  size_t pads = 0;
  while (!in.empty() && in.back() == '=' && pads < 2) {
    in.remove_suffix(1);
    ++pads;
  }
  if (pads > 0 && (in.size() + pads) % 4 != 0)
    return invalid("base64: bad padding");
  if (in.size() % 4 == 1)
    return invalid("base64: bad length");
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    auto v = table[uint8_t(c)];
    if (v < 0)
      return invalid("base64: illegal character");
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  // Leftover bits must be zero (canonical encoding, as Go's decoder wants).
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
    return invalid("base64: non-zero trailing bits");
  return out;
}

const EVP_MD* digest_for(const EVP_PKEY* key) {
  if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC && EVP_PKEY_get_bits(key) > 256)
    return EVP_sha384();
  return EVP_sha256();
}

caf::expected<std::string> sign_with(EVP_PKEY* key, const EVP_MD* md,
                                     std::string_view data) {
  md_ctx_ptr ctx{EVP_MD_CTX_new()};
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, key) != 1)
    return openssl_failure("cannot initialise signing");
  size_t len = 0;
  auto in = reinterpret_cast<const unsigned char*>(data.data());
  if (EVP_DigestSign(ctx.get(), nullptr, &len, in, data.size()) != 1)
    return openssl_failure("cannot sign");
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()),
                     &len, in, data.size())
      != 1)
    return openssl_failure("cannot sign");
  sig.resize(len);
  return sig;
}

bool verify_with(EVP_PKEY* key, const EVP_MD* md, std::string_view data,
                 std::string_view sig) {
  md_ctx_ptr ctx{EVP_MD_CTX_new()};
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key) != 1)
    return false;
  auto ok = EVP_DigestVerify(
              ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()),
              sig.size(), reinterpret_cast<const unsigned char*>(data.data()),
              data.size())
            == 1;
  ERR_clear_error();
  return ok;
}

// Size in bytes of one coordinate of the EC key's curve.
size_t ec_field_bytes(const EVP_PKEY* key) {
  return static_cast<size_t>((EVP_PKEY_get_bits(key) + 7) / 8);
}

} // namespace

std::string sha256(std::string_view data) {
  std::string out(32, '\0');
  unsigned len = 0;
  EVP_Digest(data.data(), data.size(),
             reinterpret_cast<unsigned char*>(out.data()), &len, EVP_sha256(),
             nullptr);
  return out;
}

std::string hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 0x0f];
  }
  return out;
}

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  if (n > 0
      && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()),
                    static_cast<int>(n))
           != 1)
    // RAND_bytes only fails without an entropy source: nothing secure can
    // be done then.
    std::abort();
  return out;
}

caf::expected<std::string> sign_sha256(const private_key& key,
                                       std::string_view data) {
  return sign_with(key.native(), EVP_sha256(), data);
}

bool verify_sha256(const public_key& key, std::string_view data,
                   std::string_view signature) {
  return verify_with(key.native(), EVP_sha256(), data, signature);
}

caf::expected<std::string> jws_sign(const private_key& key,
                                    std::string_view signing_input) {
  auto* pk = key.native();
  auto sig = sign_with(pk, digest_for(pk), signing_input);
  if (!sig || EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC)
    return sig;
  // JWS wants ECDSA signatures as fixed-size r || s, not DER.
  auto p = reinterpret_cast<const unsigned char*>(sig->data());
  std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> es{
    d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig->size())), ECDSA_SIG_free};
  if (!es)
    return openssl_failure("cannot decode ECDSA signature");
  auto n = ec_field_bytes(pk);
  std::string out(2 * n, '\0');
  auto buf = reinterpret_cast<unsigned char*>(out.data());
  if (BN_bn2binpad(ECDSA_SIG_get0_r(es.get()), buf, static_cast<int>(n)) < 0
      || BN_bn2binpad(ECDSA_SIG_get0_s(es.get()), buf + n, static_cast<int>(n))
           < 0)
    return openssl_failure("cannot encode ECDSA signature");
  return out;
}

bool jws_verify(const public_key& key, std::string_view signing_input,
                std::string_view signature) {
  auto* pk = key.native();
  if (EVP_PKEY_get_base_id(pk) != EVP_PKEY_EC)
    return verify_with(pk, digest_for(pk), signing_input, signature);
  auto n = ec_field_bytes(pk);
  if (signature.size() != 2 * n)
    return false;
  auto raw = reinterpret_cast<const unsigned char*>(signature.data());
  std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> es{ECDSA_SIG_new(),
                                                           ECDSA_SIG_free};
  bignum_ptr r{BN_bin2bn(raw, static_cast<int>(n), nullptr)};
  bignum_ptr s{BN_bin2bn(raw + n, static_cast<int>(n), nullptr)};
  if (!es || !r || !s || ECDSA_SIG_set0(es.get(), r.get(), s.get()) != 1)
    return false;
  // ECDSA_SIG_set0 took ownership.
  static_cast<void>(r.release());
  static_cast<void>(s.release());
  unsigned char* der = nullptr;
  auto len = i2d_ECDSA_SIG(es.get(), &der);
  if (len <= 0)
    return false;
  std::string der_sig(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return verify_with(pk, digest_for(pk), signing_input, der_sig);
}

std::string jws_algorithm(const public_key& key) {
  auto* pk = key.native();
  if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_EC)
    return EVP_PKEY_get_bits(pk) > 256 ? "ES384" : "ES256";
  return "RS256";
}

std::string base64_encode(std::string_view bytes) {
  return encode(bytes, std_alphabet, true);
}

caf::expected<std::string> base64_decode(std::string_view text) {
  return decode(text, std_alphabet);
}

std::string base64url_encode(std::string_view bytes) {
  return encode(bytes, url_alphabet, false);
}

caf::expected<std::string> base64url_decode(std::string_view text) {
  return decode(text, url_alphabet);
}

} // namespace istio_csr::pki
