#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "caf/expected.hpp"

#include "pki/names.hpp"

namespace istio_csr::pki {

/// KeyUsage bits, with OpenSSL's values (X509v3_KU_*): they combine with `|`.
namespace key_usage {
constexpr unsigned digital_signature = 0x0080;
constexpr unsigned content_commitment = 0x0040; ///< a.k.a. nonRepudiation
constexpr unsigned key_encipherment = 0x0020;
constexpr unsigned data_encipherment = 0x0010;
constexpr unsigned key_agreement = 0x0008;
constexpr unsigned cert_sign = 0x0004;
constexpr unsigned crl_sign = 0x0002;
constexpr unsigned encipher_only = 0x0001;
constexpr unsigned decipher_only = 0x8000;
} // namespace key_usage

/// Dotted OIDs used across the project.
namespace oid {
constexpr std::string_view subject_alt_name = "2.5.29.17";
constexpr std::string_view key_usage = "2.5.29.15";
constexpr std::string_view ext_key_usage = "2.5.29.37";
constexpr std::string_view basic_constraints = "2.5.29.19";
constexpr std::string_view subject_key_identifier = "2.5.29.14";
constexpr std::string_view authority_key_identifier = "2.5.29.35";
constexpr std::string_view server_auth = "1.3.6.1.5.5.7.3.1";
constexpr std::string_view client_auth = "1.3.6.1.5.5.7.3.2";
constexpr std::string_view code_signing = "1.3.6.1.5.5.7.3.3";
constexpr std::string_view email_protection = "1.3.6.1.5.5.7.3.4";
} // namespace oid

/// One raw X.509 extension, as found in a CSR or certificate.
struct x509_extension {
  std::string oid; ///< dotted form, e.g. "2.5.29.17"
  bool critical = false;
  std::string value; ///< the DER bytes inside the OCTET STRING

  bool operator==(const x509_extension&) const = default;
};

/// DER of a SubjectAltName value (a SEQUENCE of GeneralName). Errors on an
/// IP that does not parse.
caf::expected<std::string> encode_subject_alt_names(const subject_alt_names&);

/// DER of a KeyUsage value (a minimal BIT STRING) for `bits`.
std::string encode_key_usage(unsigned bits);

/// DER of an ExtendedKeyUsage value. Errors on a malformed OID.
caf::expected<std::string>
encode_ext_key_usage(const std::vector<std::string>& oids);

/// DER of a BasicConstraints value.
std::string encode_basic_constraints(bool is_ca,
                                     std::optional<int> path_len = {});

/// Parses the DER of a KeyUsage value into bits. Errors on bad DER.
caf::expected<unsigned> decode_key_usage(std::string_view der);

/// Parses the DER of an ExtendedKeyUsage value into dotted OIDs.
caf::expected<std::vector<std::string>>
decode_ext_key_usage(std::string_view der);

/// Parses the DER of a SubjectAltName value. Other GeneralName types are
/// skipped. Errors on bad DER.
caf::expected<subject_alt_names> decode_subject_alt_names(std::string_view der);

} // namespace istio_csr::pki
