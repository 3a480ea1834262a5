#include "devcluster/crypto.hpp"

#include <stdexcept>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace istio_csr::devcluster {

namespace {

[[noreturn]] void fail(const std::string& what) {
  std::string msg = what;
  unsigned long code;
  while ((code = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    msg += ": ";
    msg += buf;
  }
  throw std::runtime_error(msg);
}

std::string bio_string(BIO* bio) {
  char* data = nullptr;
  auto len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

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

std::shared_ptr<EVP_PKEY> wrap(EVP_PKEY* key) {
  if (key == nullptr)
    fail("key generation failed");
  return {key, EVP_PKEY_free};
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr)
    fail("cannot build certificate extension");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

std::shared_ptr<X509> new_cert(const key_pair& subject_key,
                               const std::string& cn, const std::string& org,
                               std::chrono::hours validity) {
  std::shared_ptr<X509> cert{X509_new(), X509_free};
  if (!cert)
    fail("X509_new");
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof(serial));
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof(serial), nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  // Backdate a little so that clocks a few seconds apart agree.
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -300);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()),
                  static_cast<long>(validity.count()) * 3600);
  X509_set_pubkey(cert.get(), subject_key.native());
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (!org.empty())
    X509_NAME_add_entry_by_txt(
      name, "O", MBSTRING_UTF8,
      reinterpret_cast<const unsigned char*>(org.c_str()), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()),
                             -1, -1, 0);
  return cert;
}

std::string to_pem(X509* cert) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio{BIO_new(BIO_s_mem()), BIO_free};
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1)
    fail("cannot encode certificate");
  return bio_string(bio.get());
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
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr)
      != 1)
    fail("sha256");
  return std::string(reinterpret_cast<char*>(md), len);
}

key_pair key_pair::generate_ec_p256() {
  return key_pair{wrap(EVP_EC_gen("P-256"))};
}

key_pair key_pair::generate_rsa(int bits) {
  return key_pair{wrap(EVP_RSA_gen(static_cast<unsigned>(bits)))};
}

std::string key_pair::private_pem() const {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio{BIO_new(BIO_s_mem()), BIO_free};
  if (!bio
      || PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0,
                                  nullptr, nullptr)
           != 1)
    fail("cannot encode private key");
  return bio_string(bio.get());
}

std::string key_pair::public_der() const {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key_.get(), &der);
  if (len <= 0)
    fail("cannot encode public key");
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

std::pair<std::string, std::string> key_pair::rsa_public_numbers() const {
  BIGNUM* n = nullptr;
  BIGNUM* e = nullptr;
  if (EVP_PKEY_get_bn_param(key_.get(), OSSL_PKEY_PARAM_RSA_N, &n) != 1
      || EVP_PKEY_get_bn_param(key_.get(), OSSL_PKEY_PARAM_RSA_E, &e) != 1) {
    BN_free(n);
    fail("not an RSA key");
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
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx{EVP_MD_CTX_new(),
                                                              EVP_MD_CTX_free};
  size_t len = 0;
  if (!ctx
      || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr,
                            key_.get())
           != 1
      || EVP_DigestSign(ctx.get(), nullptr, &len,
                        reinterpret_cast<const unsigned char*>(data.data()),
                        data.size())
           != 1)
    fail("sign");
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()),
                     &len, reinterpret_cast<const unsigned char*>(data.data()),
                     data.size())
      != 1)
    fail("sign");
  sig.resize(len);
  return sig;
}

bool key_pair::verify_sha256(std::string_view data,
                             std::string_view sig) const {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx{EVP_MD_CTX_new(),
                                                              EVP_MD_CTX_free};
  bool ok
    = ctx
      && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr,
                              key_.get())
           == 1
      && EVP_DigestVerify(
           ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()),
           sig.size(), reinterpret_cast<const unsigned char*>(data.data()),
           data.size())
           == 1;
  ERR_clear_error();
  return ok;
}

cert_authority cert_authority::self_signed(key_pair key, const std::string& cn,
                                           const std::string& org,
                                           std::chrono::hours validity) {
  auto cert = new_cert(key, cn, org, validity);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
  add_ext(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE");
  add_ext(cert.get(), cert.get(), NID_key_usage,
          "critical,digitalSignature,keyCertSign,cRLSign");
  add_ext(cert.get(), cert.get(), NID_subject_key_identifier, "hash");
  if (X509_sign(cert.get(), key.native(), EVP_sha256()) <= 0)
    fail("cannot sign CA certificate");
  auto pem = to_pem(cert.get());
  return cert_authority{std::move(key), std::move(cert), std::move(pem)};
}

std::string cert_authority::issue(const key_pair& leaf_key,
                                  const std::string& cn,
                                  const std::vector<std::string>& dns_names,
                                  const std::vector<std::string>& ips,
                                  std::chrono::hours validity) const {
  auto cert = new_cert(leaf_key, cn, "", validity);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert_.get()));
  add_ext(cert.get(), cert_.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_ext(cert.get(), cert_.get(), NID_key_usage,
          "critical,digitalSignature,keyEncipherment");
  add_ext(cert.get(), cert_.get(), NID_ext_key_usage, "serverAuth,clientAuth");
  add_ext(cert.get(), cert_.get(), NID_authority_key_identifier,
          "keyid:always");
  std::string san;
  for (auto& d : dns_names)
    san += (san.empty() ? "DNS:" : ",DNS:") + d;
  for (auto& ip : ips)
    san += (san.empty() ? "IP:" : ",IP:") + ip;
  if (!san.empty())
    add_ext(cert.get(), cert_.get(), NID_subject_alt_name, san.c_str());
  if (X509_sign(cert.get(), key_.native(), EVP_sha256()) <= 0)
    fail("cannot sign certificate");
  return to_pem(cert.get());
}

} // namespace istio_csr::devcluster
