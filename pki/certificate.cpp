#include "pki/certificate.hpp"

#include <ctime>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "pki/detail.hpp"
#include "pki/error.hpp"
#include "pki/pem.hpp"

namespace istio_csr::pki {

namespace detail {

namespace {

std::string name_entry_utf8(const X509_NAME_ENTRY* entry) {
  unsigned char* utf8 = nullptr;
  auto len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry));
  if (len < 0)
    return {};
  std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(len));
  OPENSSL_free(utf8);
  return out;
}

} // namespace

distinguished_name read_name(const X509_NAME* name) {
  distinguished_name out;
  if (name == nullptr)
    return out;
  for (int i = 0; i < X509_NAME_entry_count(name); ++i) {
    const auto* entry = X509_NAME_get_entry(name, i);
    switch (OBJ_obj2nid(X509_NAME_ENTRY_get_object(entry))) {
      case NID_commonName:
        // Go keeps the last CN when there are several; so do we.
        out.common_name = name_entry_utf8(entry);
        break;
      case NID_organizationName:
        out.organizations.push_back(name_entry_utf8(entry));
        break;
      case NID_organizationalUnitName:
        out.organizational_units.push_back(name_entry_utf8(entry));
        break;
      default: break;
    }
  }
  return out;
}

std::string name_oneline(const X509_NAME* name) {
  bio_ptr bio{BIO_new(BIO_s_mem())};
  X509_NAME_print_ex(bio.get(), name, 0,
                     XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  return bio_string(bio.get());
}

x509_name_ptr make_name(const distinguished_name& dn) {
  x509_name_ptr name{X509_NAME_new()};
  if (!name)
    return name;
  auto add = [&](int nid, const std::string& value) {
    return X509_NAME_add_entry_by_NID(
             name.get(), nid, V_ASN1_UTF8STRING,
             reinterpret_cast<const unsigned char*>(value.data()),
             static_cast<int>(value.size()), -1, 0)
           == 1;
  };
  for (const auto& o : dn.organizations)
    if (!add(NID_organizationName, o))
      return nullptr;
  for (const auto& ou : dn.organizational_units)
    if (!add(NID_organizationalUnitName, ou))
      return nullptr;
  if (dn.common_name && !add(NID_commonName, *dn.common_name))
    return nullptr;
  return name;
}

x509_extension_ptr make_extension(std::string_view oid, bool critical,
                                  std::string_view der) {
  asn1_object_ptr obj{OBJ_txt2obj(std::string{oid}.c_str(), 1)};
  std::unique_ptr<ASN1_OCTET_STRING, decltype(&ASN1_OCTET_STRING_free)> oct{
    ASN1_OCTET_STRING_new(), ASN1_OCTET_STRING_free};
  if (!obj || !oct
      || ASN1_OCTET_STRING_set(
           oct.get(), reinterpret_cast<const unsigned char*>(der.data()),
           static_cast<int>(der.size()))
           != 1)
    return nullptr;
  return x509_extension_ptr{X509_EXTENSION_create_by_OBJ(
    nullptr, obj.get(), critical ? 1 : 0, oct.get())};
}

std::vector<x509_extension> read_extensions(const STACK_OF(X509_EXTENSION)
                                            * exts) {
  std::vector<x509_extension> out;
  for (int i = 0; i < sk_X509_EXTENSION_num(exts); ++i) {
    auto* ext = sk_X509_EXTENSION_value(exts, i);
    out.push_back(x509_extension{
      oid_text(X509_EXTENSION_get_object(ext)),
      X509_EXTENSION_get_critical(ext) > 0,
      asn1_bytes(X509_EXTENSION_get_data(ext)),
    });
  }
  return out;
}

} // namespace detail

namespace {

std::chrono::system_clock::time_point to_time_point(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1)
    return {};
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

x509_ptr up_ref(X509* x) {
  if (x != nullptr)
    X509_up_ref(x);
  return x509_ptr{x};
}

} // namespace

caf::expected<certificate> certificate::from_pem(std::string_view pem) {
  for (auto& block : pem_blocks(pem))
    if (block.type == "CERTIFICATE")
      return from_der(block.der);
  return invalid("no CERTIFICATE PEM block found");
}

caf::expected<certificate> certificate::from_der(std::string_view der) {
  auto begin = reinterpret_cast<const unsigned char*>(der.data());
  auto p = begin;
  x509_ptr x{d2i_X509(nullptr, &p, static_cast<long>(der.size()))};
  if (!x)
    return invalid("cannot parse X.509 certificate");
  if (p != begin + der.size())
    return invalid("trailing data after X.509 certificate");
  return certificate{std::move(x)};
}

certificate certificate::adopt(x509_ptr x) {
  return certificate{std::move(x)};
}

certificate::certificate(const certificate& other)
  : x_(up_ref(other.native())) {}

certificate& certificate::operator=(const certificate& other) {
  if (this != &other)
    x_ = up_ref(other.native());
  return *this;
}

std::string certificate::to_pem() const {
  return pem_encode("CERTIFICATE", to_der());
}

std::string certificate::to_der() const {
  return detail::to_der(x_.get(), i2d_X509);
}

std::string certificate::subject_oneline() const {
  return detail::name_oneline(X509_get_subject_name(x_.get()));
}

std::string certificate::issuer_oneline() const {
  return detail::name_oneline(X509_get_issuer_name(x_.get()));
}

distinguished_name certificate::subject() const {
  return detail::read_name(X509_get_subject_name(x_.get()));
}

distinguished_name certificate::issuer() const {
  return detail::read_name(X509_get_issuer_name(x_.get()));
}

std::string certificate::serial_hex() const {
  bignum_ptr bn{ASN1_INTEGER_to_BN(X509_get0_serialNumber(x_.get()), nullptr)};
  if (!bn)
    return {};
  if (BN_is_zero(bn.get()))
    return "0";
  auto* text = BN_bn2hex(bn.get());
  std::string out{text};
  OPENSSL_free(text);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto first = out.find_first_not_of("-0");
  if (first != std::string::npos && first > 0 && out[0] != '-')
    out.erase(0, first);
  return out;
}

std::chrono::system_clock::time_point certificate::not_before() const {
  return to_time_point(X509_get0_notBefore(x_.get()));
}

std::chrono::system_clock::time_point certificate::not_after() const {
  return to_time_point(X509_get0_notAfter(x_.get()));
}

subject_alt_names certificate::sans() const {
  for (auto& ext : extensions())
    if (ext.oid == oid::subject_alt_name)
      if (auto res = decode_subject_alt_names(ext.value))
        return std::move(*res);
  return {};
}

bool certificate::is_ca() const {
  auto* bc = static_cast<BASIC_CONSTRAINTS*>(
    X509_get_ext_d2i(x_.get(), NID_basic_constraints, nullptr, nullptr));
  if (bc == nullptr)
    return false;
  auto res = bc->ca != 0;
  BASIC_CONSTRAINTS_free(bc);
  return res;
}

std::optional<int> certificate::path_len() const {
  auto len = X509_get_pathlen(x_.get());
  if (len < 0)
    return std::nullopt;
  return static_cast<int>(len);
}

std::optional<unsigned> certificate::key_usage() const {
  if ((X509_get_extension_flags(x_.get()) & EXFLAG_KUSAGE) == 0)
    return std::nullopt;
  return static_cast<unsigned>(X509_get_key_usage(x_.get()));
}

std::vector<std::string> certificate::ext_key_usages() const {
  for (auto& ext : extensions())
    if (ext.oid == oid::ext_key_usage)
      if (auto res = decode_ext_key_usage(ext.value))
        return std::move(*res);
  return {};
}

std::vector<x509_extension> certificate::extensions() const {
  return detail::read_extensions(X509_get0_extensions(x_.get()));
}

pki::public_key certificate::public_key() const {
  return pki::public_key::from_native(X509_get0_pubkey(x_.get()));
}

std::string certificate::public_key_der() const {
  return detail::to_der(X509_get_X509_PUBKEY(x_.get()), i2d_X509_PUBKEY);
}

bool certificate::matches(const private_key& key) const {
  auto res = X509_check_private_key(x_.get(), key.native()) == 1;
  ERR_clear_error();
  return res;
}

bool certificate::check_signature_from(const certificate& parent) const {
  auto* p = parent.native();
  auto* bc = static_cast<BASIC_CONSTRAINTS*>(
    X509_get_ext_d2i(p, NID_basic_constraints, nullptr, nullptr));
  auto bc_valid = bc != nullptr;
  auto is_ca = bc != nullptr && bc->ca != 0;
  BASIC_CONSTRAINTS_free(bc);
  ERR_clear_error();
  // RFC 5280 4.2.1.9, as Go applies it.
  if ((X509_get_version(p) == X509_VERSION_3 && !bc_valid)
      || (bc_valid && !is_ca))
    return false;
  if (auto ku = parent.key_usage();
      ku && *ku != 0 && (*ku & key_usage::cert_sign) == 0)
    return false;
  auto* key = X509_get0_pubkey(p);
  auto res = key != nullptr && X509_verify(x_.get(), key) == 1;
  ERR_clear_error();
  return res;
}

bool certificate::issued_by(const certificate& issuer) const {
  auto raw_issuer
    = detail::to_der(X509_get_issuer_name(x_.get()), i2d_X509_NAME);
  auto raw_subject
    = detail::to_der(X509_get_subject_name(issuer.native()), i2d_X509_NAME);
  return raw_issuer == raw_subject && check_signature_from(issuer);
}

bool certificate::is_self_signed() const {
  return check_signature_from(*this);
}

std::string certificate::fingerprint_sha256() const {
  std::string out(EVP_MAX_MD_SIZE, '\0');
  unsigned len = 0;
  X509_digest(x_.get(), EVP_sha256(),
              reinterpret_cast<unsigned char*>(out.data()), &len);
  out.resize(len);
  return out;
}

bool certificate::operator==(const certificate& other) const {
  return X509_cmp(x_.get(), other.native()) == 0;
}

} // namespace istio_csr::pki
