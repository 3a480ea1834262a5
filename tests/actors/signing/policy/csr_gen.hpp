#pragma once

// CSR factories for the signing policy tests, after upstream's test/gen and
// cert-manager's pki.GenerateCSR.

#include <string>
#include <vector>

#include "pki/csr.hpp"
#include "pki/extensions.hpp"
#include "tests/pki/test_pki.hpp"

namespace istio_csr::test {

/// Go's x509.KeyUsage bit values (not OpenSSL's).
namespace go_ku {
constexpr unsigned digital_signature = 1 << 0;
constexpr unsigned content_commitment = 1 << 1;
constexpr unsigned key_encipherment = 1 << 2;
constexpr unsigned data_encipherment = 1 << 3;
constexpr unsigned key_agreement = 1 << 4;
constexpr unsigned cert_sign = 1 << 5;
constexpr unsigned crl_sign = 1 << 6;
constexpr unsigned encipher_only = 1 << 7;
constexpr unsigned decipher_only = 1 << 8;
} // namespace go_ku

inline unsigned char reverse_bits(unsigned char in) {
  unsigned char b1 = static_cast<unsigned char>(in >> 4 | in << 4);
  unsigned char b2
    = static_cast<unsigned char>((b1 >> 2 & 0x33) | (b1 << 2 & 0xcc));
  return static_cast<unsigned char>((b2 >> 1 & 0x55) | (b2 << 1 & 0xaa));
}

/// The KeyUsage value exactly as Go's x509 (and upstream's
/// buildASN1KeyUsageRequest) encodes `usage`: one content byte unless a bit
/// of the second byte is set; the BIT STRING's unused-bits count follows the
/// last set bit (0 when nothing is set, giving `03 02 00 00`).
inline std::string go_key_usage_value(unsigned usage) {
  unsigned char a[2] = {reverse_bits(static_cast<unsigned char>(usage)),
                        reverse_bits(static_cast<unsigned char>(usage >> 8))};
  size_t len = a[1] != 0 ? 2 : 1;
  int bit_len = static_cast<int>(len) * 8;
  bool found = false;
  for (size_t i = 0; i < len && !found; ++i) {
    unsigned char b = a[len - i - 1];
    for (int bit = 0; bit < 8; ++bit) {
      if ((b >> bit) & 1) {
        found = true;
        break;
      }
      --bit_len;
    }
  }
  if (!found)
    bit_len = 0;
  auto padding = static_cast<char>((8 - bit_len % 8) % 8);
  std::string out;
  out += '\x03';
  out += static_cast<char>(len + 1);
  out += padding;
  for (size_t i = 0; i < len; ++i)
    out += static_cast<char>(a[i]);
  return out;
}

/// What a test CSR contains.
struct csr_spec {
  std::vector<std::string> uris = {};
  std::vector<std::string> dns = {};
  std::vector<std::string> ips = {};
  std::vector<std::string> emails = {};
  std::optional<std::string> common_name = {};
  std::vector<pki::x509_extension> extra = {};
};

/// A PEM CSR signed by a fresh EC key (an istio-shaped subject "O=" unless
/// a CN is given).
inline std::string make_csr_pem(const csr_spec& spec) {
  pki::csr_template tmpl;
  tmpl.sans.uris = spec.uris;
  tmpl.sans.dns = spec.dns;
  tmpl.sans.ips = spec.ips;
  tmpl.sans.emails = spec.emails;
  if (spec.common_name)
    tmpl.subject.common_name = spec.common_name;
  tmpl.extra_extensions = spec.extra;
  return unwrap(pki::make_csr(ec_key(), tmpl)).to_pem();
}

/// Upstream test/gen: a CSR whose URI SANs are `ids`.
inline std::string csr_with_ids(const std::vector<std::string>& ids) {
  return make_csr_pem(csr_spec{.uris = ids});
}

} // namespace istio_csr::test
