#pragma once

// Tricky PEM texts: the smuggling texts of the CSR-confusion attack and a
// deterministic generator of CR/LF/space/tab variants, trailing bits,
// several blocks, headers and junk, for differential tests of our readers.

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "pki/crypto.hpp"
#include "pki/pem.hpp"

namespace istio_csr::test {

/// The base64 alphabet, in value order.
inline constexpr std::string_view b64_alphabet
  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// `der` as base64 with the unused bits of its last character set (which
/// Go's decoder accepts and a strict one refuses). Needs `der.size() % 3`
/// to be 1 or 2 (else there are no unused bits): returns "" otherwise.
inline std::string base64_with_trailing_bits(std::string_view der) {
  if (der.size() % 3 == 0)
    return {};
  auto b64 = pki::base64_encode(der);
  auto i = b64.find('=') - 1;
  auto v = b64_alphabet.find(b64[i]);
  auto mask = der.size() % 3 == 1 ? 0xf : 0x3;
  b64[i] = b64_alphabet[(v | static_cast<size_t>(mask)) & 63];
  return b64;
}

/// A PEM block of `type` around `b64`, with `eol` after every line and
/// `begin_tail` / `end_tail` after the BEGIN and END markers.
inline std::string pem_block_text(std::string_view type, std::string_view b64,
                                  std::string_view eol = "\n",
                                  std::string_view begin_tail = "",
                                  std::string_view end_tail = "",
                                  size_t width = 64) {
  std::string out = "-----BEGIN " + std::string{type} + "-----"
                    + std::string{begin_tail} + std::string{eol};
  for (size_t i = 0; i < b64.size(); i += width)
    out += std::string{b64.substr(i, width)} + std::string{eol};
  out += "-----END " + std::string{type} + "-----" + std::string{end_tail}
         + std::string{eol};
  return out;
}

/// The CSR-confusion texts (docs/security.md): each reads as `own` to a
/// reader that strips every trailing CR or wants canonical base64 (our
/// reader before the fix), and as `other` to Go's `pem.Decode`, which is
/// what cert-manager signs. `own_der`/`other_der` are CSR DERs; the second
/// text needs `other_der.size() % 3 != 0`.
struct smuggling_texts {
  /// own's BEGIN line ends "\r\r\n": Go skips that block.
  std::string begin_line_cr;
  /// own's END line ends "\r\r\n": Go skips that block too.
  std::string end_line_cr;
  /// other's last base64 character has unused bits set: Go takes it.
  std::string trailing_bits;
};

inline smuggling_texts make_smuggling_texts(std::string_view own_der,
                                            std::string_view other_der) {
  constexpr std::string_view type = "CERTIFICATE REQUEST";
  auto own_b64 = pki::base64_encode(own_der);
  auto other = pki::pem_encode(type, other_der);
  smuggling_texts out;
  out.begin_line_cr = pem_block_text(type, own_b64, "\n", "\r\r") + other;
  out.end_line_cr = pem_block_text(type, own_b64, "\n", "", "\r\r") + other;
  out.trailing_bits = pem_block_text(type, base64_with_trailing_bits(other_der))
                      + pki::pem_encode(type, own_der);
  return out;
}

/// A deterministic generator of tricky PEM texts made of the given DER
/// payloads (each block picks one).
class pem_text_generator {
 public:
  pem_text_generator(std::vector<std::string> ders, std::string type,
                     std::uint32_t seed)
    : ders_(std::move(ders)), type_(std::move(type)), rng_(seed) {}

  std::string next() {
    static const std::vector<std::string> prefixes{
      "",     "",       "",  "",     "\n", "\r\n", " \n",
      "\t\n", "junk\n", " ", "junk", "\r", "\n\n", "-----BEGIN X-----\n"};
    static const std::vector<std::string> separators{
      "", "", "\n", "\r\n", "\r", " ", "junk\n", "\n\n", " \t\n"};
    std::string text = pick(prefixes);
    auto blocks = 1 + below(3);
    for (size_t i = 0; i < blocks; ++i)
      text += block() + pick(separators);
    return text;
  }

 private:
  std::string block() {
    static const std::vector<std::string> eols{
      "\n",     "\n",  "\n",   "\n",    "\r\n",  "\r\n", "\r\n",
      "\r\r\n", " \n", "\t\n", "\r \n", " \r\n", "\n\n", "\r"};
    static const std::vector<std::string> tails{
      "", "", "", "", "", "", " ", "\t", "\r", "\r\r", " \r", "\r ", "x"};
    static const std::vector<std::string> headers{"Proc-Type: 4,ENCRYPTED",
                                                  "Key:value", ":", "a: b"};
    static const std::vector<std::string> insertions{" ",    "\t", "\r", "\n",
                                                     "\r\n", "=",  "!"};
    const auto& der = ders_[below(ders_.size())];
    auto b64 = below(4) == 0 && der.size() % 3 != 0
                 ? base64_with_trailing_bits(der)
                 : pki::base64_encode(der);
    auto type = below(12) == 0 ? std::string{"CERTIFICATE"} : type_;
    auto eol = pick(eols);
    std::string out = "-----BEGIN " + type + "-----" + pick(tails) + eol;
    if (below(10) == 0)
      out += pick(headers) + pick(eols);
    static const std::vector<size_t> widths{64, 64, 64, 76, 16, 1 << 20};
    auto width = widths[below(widths.size())];
    for (size_t i = 0; i < b64.size(); i += width) {
      auto line = b64.substr(i, width);
      if (below(30) == 0)
        line.insert(below(line.size() + 1), pick(insertions));
      out += line + (below(20) == 0 ? pick(eols) : eol);
    }
    if (below(30) != 0)
      out += "-----END " + (below(15) == 0 ? std::string{"X"} : type) + "-----"
             + pick(tails) + (below(6) != 0 ? eol : std::string{});
    return out;
  }

  size_t below(size_t n) {
    return std::uniform_int_distribution<size_t>{0, n - 1}(rng_);
  }

  const std::string& pick(const std::vector<std::string>& xs) {
    return xs[below(xs.size())];
  }

  std::vector<std::string> ders_;
  std::string type_;
  std::mt19937 rng_;
};

} // namespace istio_csr::test
