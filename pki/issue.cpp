#include "pki/issue.hpp"

#include <cstring>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "pki/crypto.hpp"
#include "pki/detail.hpp"
#include "pki/error.hpp"

namespace istio_csr::pki {

namespace {

// DER OCTET STRING wrapping `bytes` (short form: key IDs are 20 bytes).
std::string der_octet_string(std::string_view bytes) {
  std::string out;
  out += '\x04';
  out += static_cast<char>(bytes.size());
  out += bytes;
  return out;
}

// DER AuthorityKeyIdentifier with only keyIdentifier [0].
std::string der_authority_key_id(std::string_view key_id) {
  std::string inner;
  inner += '\x80';
  inner += static_cast<char>(key_id.size());
  inner += key_id;
  std::string out;
  out += '\x30';
  out += static_cast<char>(inner.size());
  out += inner;
  return out;
}

// SHA-1 of the subjectPublicKey BIT STRING contents of `pub` (RFC 5280
// 4.2.1.2 (1)), as Go and OpenSSL compute it.
std::string key_id(const X509_PUBKEY* pub) {
  const unsigned char* data = nullptr;
  int len = 0;
  if (X509_PUBKEY_get0_param(nullptr, &data, &len, nullptr, pub) != 1)
    return {};
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned md_len = 0;
  if (EVP_Digest(data, static_cast<size_t>(len), md, &md_len, EVP_sha1(),
                 nullptr)
      != 1)
    return {};
  return std::string(reinterpret_cast<char*>(md), md_len);
}

std::string key_id(EVP_PKEY* key) {
  auto* pub = X509_PUBKEY_new();
  if (pub == nullptr)
    return {};
  std::string out;
  if (X509_PUBKEY_set(&pub, key) == 1)
    out = key_id(pub);
  X509_PUBKEY_free(pub);
  return out;
}

// Copies the SubjectPublicKeyInfo `from` (algorithm, parameters, key bits)
// into `to`. Unlike X509_set_pubkey, no key is encoded or decoded: OpenSSL
// 3.0 sets up an encoder and a decoder for each, which costs more than the
// signature.
bool copy_spki(X509_PUBKEY* to, const X509_PUBKEY* from) {
  const unsigned char* bits = nullptr;
  int len = 0;
  X509_ALGOR* from_alg = nullptr;
  X509_ALGOR* to_alg = nullptr;
  if (X509_PUBKEY_get0_param(nullptr, &bits, &len, &from_alg, from) != 1
      || X509_PUBKEY_get0_param(nullptr, nullptr, nullptr, &to_alg, to) != 1
      || from_alg == nullptr || to_alg == nullptr || len < 0
      || X509_ALGOR_copy(to_alg, from_alg) != 1)
    return false;
  asn1_object_ptr alg{OBJ_dup(to_alg->algorithm)};
  auto* copy = static_cast<unsigned char*>(
    OPENSSL_malloc(static_cast<size_t>(len > 0 ? len : 1)));
  if (copy != nullptr && len > 0)
    std::memcpy(copy, bits, static_cast<size_t>(len));
  if (!alg || copy == nullptr) {
    OPENSSL_free(copy);
    return false;
  }
  // V_ASN1_EOC keeps the parameters X509_ALGOR_copy set; V_ASN1_UNDEF keeps
  // them absent. X509_PUBKEY_set0_param takes `alg` and `copy`.
  auto keep = to_alg->parameter != nullptr ? V_ASN1_EOC : V_ASN1_UNDEF;
  if (X509_PUBKEY_set0_param(to, alg.get(), keep, nullptr, copy, len) != 1) {
    OPENSSL_free(copy);
    return false;
  }
  static_cast<void>(alg.release());
  return true;
}

/// The subject's public key: an EVP_PKEY, or a SubjectPublicKeyInfo to copy.
struct subject_key_source {
  EVP_PKEY* key = nullptr;
  const X509_PUBKEY* spki = nullptr;
};

caf::expected<certificate> build(const cert_template& tmpl,
                                 subject_key_source subject_key,
                                 const X509_NAME* issuer_name,
                                 std::string_view issuer_key_id,
                                 EVP_PKEY* signing_key, bool self_signed) {
  if (tmpl.not_after <= tmpl.not_before)
    return invalid("certificate validity ends before it starts");
  x509_ptr x{X509_new()};
  if (!x || X509_set_version(x.get(), X509_VERSION_3) != 1)
    return openssl_failure("cannot create certificate");
  // Serial: given, or 128 random bits with the top bit cleared (positive),
  // never zero.
  auto serial = tmpl.serial;
  if (serial.empty()) {
    serial = random_bytes(16);
    serial[0] = static_cast<char>(static_cast<unsigned char>(serial[0]) & 0x7f);
    serial[15] = static_cast<char>(static_cast<unsigned char>(serial[15]) | 1);
  }
  bignum_ptr bn{BN_bin2bn(reinterpret_cast<const unsigned char*>(serial.data()),
                          static_cast<int>(serial.size()), nullptr)};
  asn1_integer_ptr serial_int{bn ? BN_to_ASN1_INTEGER(bn.get(), nullptr)
                                 : nullptr};
  if (!serial_int || X509_set_serialNumber(x.get(), serial_int.get()) != 1)
    return openssl_failure("cannot set serial number");
  auto subject = detail::make_name(tmpl.subject);
  if (!subject || X509_set_subject_name(x.get(), subject.get()) != 1
      || X509_set_issuer_name(x.get(), issuer_name != nullptr ? issuer_name
                                                              : subject.get())
           != 1)
    return openssl_failure("cannot set names");
  using std::chrono::system_clock;
  if (ASN1_TIME_set(X509_getm_notBefore(x.get()),
                    system_clock::to_time_t(tmpl.not_before))
        == nullptr
      || ASN1_TIME_set(X509_getm_notAfter(x.get()),
                       system_clock::to_time_t(tmpl.not_after))
           == nullptr)
    return openssl_failure("cannot set validity");
  if (subject_key.spki != nullptr
        ? !copy_spki(X509_get_X509_PUBKEY(x.get()), subject_key.spki)
        : X509_set_pubkey(x.get(), subject_key.key) != 1)
    return openssl_failure("cannot set public key");
  auto add = [&](std::string_view oid, bool critical, std::string_view der) {
    auto ext = detail::make_extension(oid, critical, der);
    return ext && X509_add_ext(x.get(), ext.get(), -1) == 1;
  };
  if (tmpl.key_usage != 0
      && !add(oid::key_usage, true, encode_key_usage(tmpl.key_usage)))
    return openssl_failure("cannot add KeyUsage");
  if (!tmpl.ext_key_usages.empty()) {
    auto der = encode_ext_key_usage(tmpl.ext_key_usages);
    if (!der)
      return std::move(der.error());
    if (!add(oid::ext_key_usage, false, *der))
      return openssl_failure("cannot add ExtendedKeyUsage");
  }
  if (!add(oid::basic_constraints, true,
           encode_basic_constraints(tmpl.is_ca,
                                    tmpl.is_ca ? tmpl.path_len : std::nullopt)))
    return openssl_failure("cannot add BasicConstraints");
  auto ski = key_id(X509_get_X509_PUBKEY(x.get()));
  if (!ski.empty()
      && !add(oid::subject_key_identifier, false, der_octet_string(ski)))
    return openssl_failure("cannot add SubjectKeyIdentifier");
  if (!self_signed && !issuer_key_id.empty()
      && !add(oid::authority_key_identifier, false,
              der_authority_key_id(issuer_key_id)))
    return openssl_failure("cannot add AuthorityKeyIdentifier");
  if (!tmpl.sans.empty()) {
    auto der = encode_subject_alt_names(tmpl.sans);
    if (!der)
      return std::move(der.error());
    // RFC 5280 4.2.1.6: critical when the subject is empty.
    auto critical = X509_NAME_entry_count(subject.get()) == 0;
    if (!add(oid::subject_alt_name, critical, *der))
      return openssl_failure("cannot add SubjectAltName");
  }
  for (const auto& ext : tmpl.extra_extensions)
    if (!add(ext.oid, ext.critical, ext.value))
      return invalid("cannot add extension " + ext.oid);
  if (X509_sign(x.get(), signing_key, EVP_sha256()) <= 0)
    return openssl_failure("cannot sign certificate");
  // Re-parse: a certificate built in memory keeps stale cached fields.
  return certificate::from_der(detail::to_der(x.get(), i2d_X509));
}

caf::expected<certificate> issue_for(const cert_template& tmpl,
                                     subject_key_source subject_key,
                                     const certificate& issuer,
                                     const private_key& issuer_key) {
  if (!issuer.matches(issuer_key))
    return invalid("issuer key does not match the issuer certificate");
  std::string issuer_key_id;
  if (const auto* id = X509_get0_subject_key_id(issuer.native()))
    issuer_key_id = detail::asn1_bytes(id);
  else
    issuer_key_id = key_id(issuer_key.native());
  return build(tmpl, subject_key, X509_get_subject_name(issuer.native()),
               issuer_key_id, issuer_key.native(), false);
}

} // namespace

caf::expected<certificate> issue(const cert_template& tmpl,
                                 const public_key& subject_key,
                                 const certificate& issuer,
                                 const private_key& issuer_key) {
  return issue_for(tmpl, {subject_key.native(), nullptr}, issuer, issuer_key);
}

caf::expected<certificate> issue_for_request(const cert_template& tmpl,
                                             const csr& request,
                                             const certificate& issuer,
                                             const private_key& issuer_key) {
  return issue_for(tmpl, {nullptr, X509_REQ_get_X509_PUBKEY(request.native())},
                   issuer, issuer_key);
}

caf::expected<certificate> self_sign(const cert_template& tmpl,
                                     const private_key& key) {
  auto pub = key.public_key();
  return build(tmpl, {pub.native(), nullptr}, nullptr, {}, key.native(), true);
}

caf::expected<certificate> issue_from_csr(const csr& request,
                                          cert_template tmpl,
                                          const certificate& issuer,
                                          const private_key& issuer_key) {
  if (!request.verify_signature())
    return invalid("CSR signature does not verify");
  auto sans = request.sans();
  if (!sans)
    return std::move(sans.error());
  tmpl.subject = request.subject();
  tmpl.sans = std::move(*sans);
  return issue_for_request(tmpl, request, issuer, issuer_key);
}

} // namespace istio_csr::pki
