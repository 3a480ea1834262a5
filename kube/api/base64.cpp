#include "kube/api/base64.hpp"

#include <array>
#include <cstdint>

namespace istio_csr::kube {

namespace {

constexpr char alphabet[]
  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<int8_t, 256> make_reverse() {
  std::array<int8_t, 256> result{};
  for (auto& x : result)
    x = -1;
  for (int i = 0; i < 64; ++i)
    result[static_cast<uint8_t>(alphabet[i])] = static_cast<int8_t>(i);
  return result;
}

constexpr auto reverse = make_reverse();

bool is_space(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

} // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = (uint32_t{static_cast<uint8_t>(bytes[i])} << 16)
                 | (uint32_t{static_cast<uint8_t>(bytes[i + 1])} << 8)
                 | uint32_t{static_cast<uint8_t>(bytes[i + 2])};
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  auto rest = bytes.size() - i;
  if (rest == 1) {
    uint32_t v = uint32_t{static_cast<uint8_t>(bytes[i])} << 16;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += "==";
  } else if (rest == 2) {
    uint32_t v = (uint32_t{static_cast<uint8_t>(bytes[i])} << 16)
                 | (uint32_t{static_cast<uint8_t>(bytes[i + 1])} << 8);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size() / 4 * 3);
  uint32_t acc = 0;
  int count = 0;   // sextets in the current quantum
  int padding = 0; // '=' seen
  for (char c : text) {
    if (is_space(c))
      continue;
    if (c == '=') {
      ++padding;
      if (count + padding > 4 || count < 2)
        return std::nullopt;
      continue;
    }
    if (padding > 0)
      return std::nullopt; // data after padding
    auto v = reverse[static_cast<uint8_t>(c)];
    if (v < 0)
      return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    if (++count == 4) {
      out += static_cast<char>((acc >> 16) & 0xFF);
      out += static_cast<char>((acc >> 8) & 0xFF);
      out += static_cast<char>(acc & 0xFF);
      acc = 0;
      count = 0;
    }
  }
  if (padding > 0) {
    if (count + padding != 4)
      return std::nullopt;
  } else if (count != 0) {
    return std::nullopt;
  }
  if (count == 2) {
    out += static_cast<char>((acc >> 4) & 0xFF);
  } else if (count == 3) {
    out += static_cast<char>((acc >> 10) & 0xFF);
    out += static_cast<char>((acc >> 2) & 0xFF);
  }
  return out;
}

} // namespace istio_csr::kube
