#pragma once

// CSRs with hand-made attributes (several extension requests, Microsoft's
// extension-request attribute, duplicate extensions, ...), signed for real,
// for tests of what the agent refuses. Include only from CAF test
// translation units.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/objects.h>

#include "caf/test/unit_test.hpp"

#include "pki/crypto.hpp"
#include "pki/csr.hpp"
#include "pki/extensions.hpp"
#include "pki/private_key.hpp"
#include "tests/support/der.hpp"

namespace istio_csr::test {

/// DER of an OBJECT IDENTIFIER in dotted form.
inline std::string der_oid(const std::string& dotted) {
  std::unique_ptr<ASN1_OBJECT, decltype(&ASN1_OBJECT_free)> obj{
    OBJ_txt2obj(dotted.c_str(), 1), ASN1_OBJECT_free};
  CAF_REQUIRE(obj != nullptr);
  unsigned char* buf = nullptr;
  auto len = i2d_ASN1_OBJECT(obj.get(), &buf);
  CAF_REQUIRE(len > 0);
  std::string out(reinterpret_cast<char*>(buf), static_cast<size_t>(len));
  OPENSSL_free(buf);
  return out;
}

/// DER of one Extension.
inline std::string der_extension(const pki::x509_extension& ext) {
  std::string content = der_oid(ext.oid);
  if (ext.critical)
    content += std::string("\x01\x01\xff", 3);
  content += der_tlv(0x04, ext.value);
  return der_sequence(content);
}

/// DER of a SEQUENCE OF Extension (the value of an extensionRequest).
inline std::string
der_extensions(const std::vector<pki::x509_extension>& exts) {
  std::string content;
  for (const auto& ext : exts)
    content += der_extension(ext);
  return der_sequence(content);
}

inline constexpr std::string_view extension_request_oid
  = "1.2.840.113549.1.9.14";
inline constexpr std::string_view ms_extension_request_oid
  = "1.3.6.1.4.1.311.2.1.14";
inline constexpr std::string_view challenge_password_oid
  = "1.2.840.113549.1.9.7";

/// One attribute: its OID and its values, each the full DER of one
/// element.
struct raw_attribute {
  std::string oid;
  std::vector<std::string> values;
};

/// A CSR of the EC P-256 `key` with subject "O=" and exactly `attrs` (in
/// order, duplicates and empty value sets included: built by hand, as
/// OpenSSL refuses to add such attributes), signed with ECDSA-SHA256.
inline pki::csr crafted_csr(const pki::private_key& key,
                            const std::vector<raw_attribute>& attrs) {
  // Name: SEQUENCE { SET { SEQUENCE { OID 2.5.4.10, UTF8String "" } } }.
  auto subject = der_sequence(
    der_tlv(0x31, der_sequence(der_oid("2.5.4.10") + der_tlv(0x0c, ""))));
  std::string attributes;
  for (const auto& attr : attrs) {
    std::string values;
    for (const auto& value : attr.values)
      values += value;
    attributes += der_sequence(der_oid(attr.oid) + der_tlv(0x31, values));
  }
  auto info
    = der_sequence(der_tlv(0x02, std::string(1, '\0')) + subject
                   + key.public_key().to_der() + der_tlv(0xa0, attributes));
  auto signature = pki::sign_sha256(key, info);
  CAF_REQUIRE(signature);
  auto ecdsa_with_sha256 = der_sequence(der_oid("1.2.840.10045.4.3.2"));
  auto der = der_sequence(info + ecdsa_with_sha256
                          + der_tlv(0x03, std::string(1, '\0') + *signature));
  auto parsed = pki::csr::from_der(der);
  CAF_REQUIRE(parsed);
  CAF_REQUIRE(parsed->verify_signature());
  return std::move(*parsed);
}

/// A SubjectAltName extension with the given URIs (critical, as istio).
inline pki::x509_extension uri_san(std::vector<std::string> uris) {
  pki::subject_alt_names sans;
  sans.uris = std::move(uris);
  auto der = pki::encode_subject_alt_names(sans);
  CAF_REQUIRE(der);
  return {std::string{pki::oid::subject_alt_name}, true, *der};
}

} // namespace istio_csr::test
