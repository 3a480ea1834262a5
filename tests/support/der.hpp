#pragma once

// Hand-made DER, for inputs OpenSSL would not build (tests of what the
// agent refuses, fuzz targets that sign what the fuzzer wrote). Header only,
// no test framework: fuzz/ includes it too.

#include <string>
#include <string_view>

namespace istio_csr::test {

/// DER of one element with a one-byte identifier.
inline std::string der_tlv(unsigned char identifier, std::string_view content) {
  std::string out(1, static_cast<char>(identifier));
  auto n = content.size();
  if (n < 0x80) {
    out += static_cast<char>(n);
  } else {
    std::string len;
    for (; n > 0; n >>= 8)
      len.insert(len.begin(), static_cast<char>(n & 0xff));
    out += static_cast<char>(0x80 | len.size());
    out += len;
  }
  out += content;
  return out;
}

inline std::string der_sequence(std::string_view content) {
  return der_tlv(0x30, content);
}

} // namespace istio_csr::test
