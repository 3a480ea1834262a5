#include "pki/extensions.hpp"

#include <arpa/inet.h>

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "pki/detail.hpp"
#include "pki/error.hpp"

namespace istio_csr::pki {

namespace detail {

std::string oid_text(const ASN1_OBJECT* obj) {
  char buf[128];
  auto len = OBJ_obj2txt(buf, sizeof(buf), obj, 1);
  if (len <= 0)
    return {};
  if (static_cast<size_t>(len) < sizeof(buf))
    return std::string(buf, static_cast<size_t>(len));
  std::string out(static_cast<size_t>(len) + 1, '\0');
  OBJ_obj2txt(out.data(), len + 1, obj, 1);
  out.resize(static_cast<size_t>(len));
  return out;
}

} // namespace detail

namespace {

struct general_names_deleter {
  void operator()(GENERAL_NAMES* x) const noexcept {
    GENERAL_NAMES_free(x);
  }
};
using general_names_ptr = std::unique_ptr<GENERAL_NAMES, general_names_deleter>;

bool push_string_name(GENERAL_NAMES* names, int type, const std::string& v) {
  auto* gn = GENERAL_NAME_new();
  auto* str = ASN1_IA5STRING_new();
  if (gn == nullptr || str == nullptr
      || ASN1_STRING_set(str, v.data(), static_cast<int>(v.size())) != 1) {
    GENERAL_NAME_free(gn);
    ASN1_IA5STRING_free(str);
    return false;
  }
  GENERAL_NAME_set0_value(gn, type, str);
  if (sk_GENERAL_NAME_push(names, gn) <= 0) {
    GENERAL_NAME_free(gn);
    return false;
  }
  return true;
}

std::string ip_text(const ASN1_OCTET_STRING* ip) {
  auto bytes = detail::asn1_bytes(ip);
  char buf[INET6_ADDRSTRLEN] = {0};
  if (bytes.size() == 4)
    inet_ntop(AF_INET, bytes.data(), buf, sizeof(buf));
  else if (bytes.size() == 16)
    inet_ntop(AF_INET6, bytes.data(), buf, sizeof(buf));
  else
    return {};
  return buf;
}

} // namespace

caf::expected<std::string>
encode_subject_alt_names(const subject_alt_names& s) {
  general_names_ptr names{GENERAL_NAMES_new()};
  if (!names)
    return openssl_failure("out of memory");
  for (const auto& x : s.dns)
    if (!push_string_name(names.get(), GEN_DNS, x))
      return openssl_failure("cannot encode DNS SAN");
  for (const auto& x : s.ips) {
    auto* oct = a2i_IPADDRESS(x.c_str());
    if (oct == nullptr)
      return invalid("invalid IP address in SANs: " + x);
    auto* gn = GENERAL_NAME_new();
    if (gn == nullptr) {
      ASN1_OCTET_STRING_free(oct);
      return openssl_failure("out of memory");
    }
    GENERAL_NAME_set0_value(gn, GEN_IPADD, oct);
    if (sk_GENERAL_NAME_push(names.get(), gn) <= 0) {
      GENERAL_NAME_free(gn);
      return openssl_failure("out of memory");
    }
  }
  for (const auto& x : s.uris)
    if (!push_string_name(names.get(), GEN_URI, x))
      return openssl_failure("cannot encode URI SAN");
  for (const auto& x : s.emails)
    if (!push_string_name(names.get(), GEN_EMAIL, x))
      return openssl_failure("cannot encode email SAN");
  return detail::to_der(names.get(), i2d_GENERAL_NAMES);
}

std::string encode_key_usage(unsigned bits) {
  std::unique_ptr<ASN1_BIT_STRING, decltype(&ASN1_BIT_STRING_free)> bs{
    ASN1_BIT_STRING_new(), ASN1_BIT_STRING_free};
  // Bit n of the BIT STRING: 0 = digitalSignature ... 7 = encipherOnly are
  // 0x80 >> n of the first byte; 8 = decipherOnly is 0x8000.
  for (int n = 0; n < 8; ++n)
    if (bits & (0x80u >> n))
      ASN1_BIT_STRING_set_bit(bs.get(), n, 1);
  if (bits & key_usage::decipher_only)
    ASN1_BIT_STRING_set_bit(bs.get(), 8, 1);
  return detail::to_der(bs.get(), i2d_ASN1_BIT_STRING);
}

caf::expected<std::string>
encode_ext_key_usage(const std::vector<std::string>& oids) {
  std::unique_ptr<EXTENDED_KEY_USAGE, decltype(&EXTENDED_KEY_USAGE_free)> eku{
    EXTENDED_KEY_USAGE_new(), EXTENDED_KEY_USAGE_free};
  for (const auto& text : oids) {
    auto* obj = OBJ_txt2obj(text.c_str(), 1);
    if (obj == nullptr)
      return invalid("invalid OID: " + text);
    if (sk_ASN1_OBJECT_push(eku.get(), obj) <= 0) {
      ASN1_OBJECT_free(obj);
      return openssl_failure("out of memory");
    }
  }
  return detail::to_der(eku.get(), i2d_EXTENDED_KEY_USAGE);
}

std::string encode_basic_constraints(bool is_ca, std::optional<int> path_len) {
  std::unique_ptr<BASIC_CONSTRAINTS, decltype(&BASIC_CONSTRAINTS_free)> bc{
    BASIC_CONSTRAINTS_new(), BASIC_CONSTRAINTS_free};
  bc->ca = is_ca ? 0xff : 0;
  if (path_len) {
    bc->pathlen = ASN1_INTEGER_new();
    ASN1_INTEGER_set(bc->pathlen, *path_len);
  }
  return detail::to_der(bc.get(), i2d_BASIC_CONSTRAINTS);
}

caf::expected<unsigned> decode_key_usage(std::string_view der) {
  auto p = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<ASN1_BIT_STRING, decltype(&ASN1_BIT_STRING_free)> bs{
    d2i_ASN1_BIT_STRING(nullptr, &p, static_cast<long>(der.size())),
    ASN1_BIT_STRING_free};
  if (!bs)
    return invalid("cannot parse KeyUsage");
  auto bytes = detail::asn1_bytes(bs.get());
  unsigned out = 0;
  if (!bytes.empty())
    out |= static_cast<unsigned char>(bytes[0]);
  if (bytes.size() > 1)
    out |= static_cast<unsigned>(static_cast<unsigned char>(bytes[1])) << 8;
  return out;
}

caf::expected<std::vector<std::string>>
decode_ext_key_usage(std::string_view der) {
  auto p = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<EXTENDED_KEY_USAGE, decltype(&EXTENDED_KEY_USAGE_free)> eku{
    d2i_EXTENDED_KEY_USAGE(nullptr, &p, static_cast<long>(der.size())),
    EXTENDED_KEY_USAGE_free};
  if (!eku)
    return invalid("cannot parse ExtendedKeyUsage");
  std::vector<std::string> out;
  for (int i = 0; i < sk_ASN1_OBJECT_num(eku.get()); ++i)
    out.push_back(detail::oid_text(sk_ASN1_OBJECT_value(eku.get(), i)));
  return out;
}

caf::expected<subject_alt_names>
decode_subject_alt_names(std::string_view der) {
  auto p = reinterpret_cast<const unsigned char*>(der.data());
  general_names_ptr names{
    d2i_GENERAL_NAMES(nullptr, &p, static_cast<long>(der.size()))};
  if (!names)
    return invalid("cannot parse SubjectAltName");
  subject_alt_names out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const auto* gn = sk_GENERAL_NAME_value(names.get(), i);
    switch (gn->type) {
      case GEN_DNS: out.dns.push_back(detail::asn1_bytes(gn->d.dNSName)); break;
      case GEN_URI:
        out.uris.push_back(detail::asn1_bytes(gn->d.uniformResourceIdentifier));
        break;
      case GEN_EMAIL:
        out.emails.push_back(detail::asn1_bytes(gn->d.rfc822Name));
        break;
      case GEN_IPADD: {
        auto text = ip_text(gn->d.iPAddress);
        if (text.empty())
          return invalid("invalid IP address length in SubjectAltName");
        out.ips.push_back(std::move(text));
        break;
      }
      default: break;
    }
  }
  return out;
}

} // namespace istio_csr::pki
