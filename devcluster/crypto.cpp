#include "devcluster/crypto.hpp"

#include <stdexcept>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "errors/describe.hpp"
#include "pki/crypto.hpp"
#include "pki/error.hpp"
#include "pki/extensions.hpp"
#include "pki/issue.hpp"

namespace istio_csr::devcluster {

namespace {

constexpr std::string_view b64_std
  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view b64_url
  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string encode(std::string_view data, std::string_view alphabet, bool pad) {
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  auto byte = [&](size_t k) {
    return static_cast<unsigned>(static_cast<unsigned char>(data[k]));
  };
  for (; i + 3 <= data.size(); i += 3) {
    unsigned v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  if (data.size() - i == 1) {
    unsigned v = byte(i) << 16;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    if (pad)
      out += "==";
  } else if (data.size() - i == 2) {
    unsigned v = (byte(i) << 16) | (byte(i + 1) << 8);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    if (pad)
      out += '=';
  }
  return out;
}

std::optional<std::string> decode(std::string_view text,
                                  std::string_view alphabet, bool padded) {
  int table[256];
  for (int& t : table)
    t = -1;
  for (size_t k = 0; k < alphabet.size(); ++k)
    table[static_cast<unsigned char>(alphabet[k])] = static_cast<int>(k);
  if (padded) {
    if (text.size() % 4 != 0)
      return std::nullopt;
    size_t pads = 0;
    while (pads < 2 && !text.empty() && text.back() == '=') {
      text.remove_suffix(1);
      ++pads;
    }
  }
  if (text.size() % 4 == 1)
    return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  unsigned acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = table[static_cast<unsigned char>(c)];
    if (v < 0)
      return std::nullopt;
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  // Trailing bits must be zero (Go's strict decoding).
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
    return std::nullopt;
  return out;
}

template <class T>
T value_or_throw(caf::expected<T> x, const char* what) {
  if (!x)
    throw std::runtime_error(std::string(what) + ": "
                             + istio_csr::errors::message(x.error()));
  return std::move(*x);
}

} // namespace

std::string base64_encode(std::string_view data) {
  return encode(data, b64_std, true);
}

std::optional<std::string> base64_decode(std::string_view text) {
  return decode(text, b64_std, true);
}

std::string base64url_encode(std::string_view data) {
  return encode(data, b64_url, false);
}

std::optional<std::string> base64url_decode(std::string_view text) {
  return decode(text, b64_url, false);
}

std::string sha256(std::string_view data) {
  return pki::sha256(data);
}

key_pair key_pair::generate_ec_p256() {
  return key_pair{
    value_or_throw(pki::private_key::generate_ec(256), "EC key generation")};
}

key_pair key_pair::generate_rsa(int bits) {
  return key_pair{
    value_or_throw(pki::private_key::generate_rsa(bits), "RSA key generation")};
}

std::string key_pair::private_pem() const {
  return key_.to_pem();
}

std::string key_pair::public_der() const {
  return key_.public_key().to_der();
}

std::pair<std::string, std::string> key_pair::rsa_public_numbers() const {
  BIGNUM* n = nullptr;
  BIGNUM* e = nullptr;
  if (EVP_PKEY_get_bn_param(key_.native(), OSSL_PKEY_PARAM_RSA_N, &n) != 1
      || EVP_PKEY_get_bn_param(key_.native(), OSSL_PKEY_PARAM_RSA_E, &e) != 1) {
    BN_free(n);
    throw std::runtime_error("not an RSA key");
  }
  auto bytes = [](BIGNUM* bn) {
    std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
    BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
    BN_free(bn);
    return out;
  };
  auto nb = bytes(n);
  auto eb = bytes(e);
  return {nb, eb};
}

std::string key_pair::sign_sha256(std::string_view data) const {
  return value_or_throw(pki::jws_sign(key_, data), "signing");
}

bool key_pair::verify_sha256(std::string_view data,
                             std::string_view sig) const {
  return pki::jws_verify(key_.public_key(), data, sig);
}

cert_authority cert_authority::self_signed(key_pair key, const std::string& cn,
                                           const std::string& org,
                                           std::chrono::hours validity) {
  pki::cert_template tmpl;
  tmpl.subject.common_name = cn;
  if (!org.empty())
    tmpl.subject.organizations = {org};
  // Backdated a little so that clocks a few seconds apart agree.
  tmpl.not_before = std::chrono::system_clock::now() - std::chrono::minutes(5);
  tmpl.not_after = std::chrono::system_clock::now() + validity;
  tmpl.is_ca = true;
  tmpl.key_usage = pki::key_usage::digital_signature | pki::key_usage::cert_sign
                   | pki::key_usage::crl_sign;
  auto cert = value_or_throw(pki::self_sign(tmpl, key.key()),
                             "self-signing a CA certificate");
  auto pem = cert.to_pem();
  return cert_authority{std::move(key), std::move(cert), std::move(pem)};
}

std::string cert_authority::issue(const key_pair& leaf_key,
                                  const std::string& cn,
                                  const std::vector<std::string>& dns_names,
                                  const std::vector<std::string>& ips,
                                  std::chrono::hours validity) const {
  pki::cert_template tmpl;
  tmpl.subject.common_name = cn;
  tmpl.sans.dns = dns_names;
  tmpl.sans.ips = ips;
  tmpl.not_before = std::chrono::system_clock::now() - std::chrono::minutes(5);
  tmpl.not_after = std::chrono::system_clock::now() + validity;
  tmpl.key_usage
    = pki::key_usage::digital_signature | pki::key_usage::key_encipherment;
  tmpl.ext_key_usages
    = {std::string(pki::oid::server_auth), std::string(pki::oid::client_auth)};
  auto cert = value_or_throw(
    pki::issue(tmpl, leaf_key.key().public_key(), cert_, key_.key()),
    "issuing a certificate");
  return cert.to_pem();
}

} // namespace istio_csr::devcluster
