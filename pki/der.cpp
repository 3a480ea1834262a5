#include "pki/der.hpp"

#include <cstddef>

namespace istio_csr::pki::der {

std::optional<tlv> read(std::string_view& in) {
  size_t pos = 0;
  auto byte = [&](size_t i) { return static_cast<unsigned char>(in[i]); };
  if (in.size() < 2)
    return std::nullopt;
  tlv out;
  auto b = byte(pos++);
  out.cls = b >> 6;
  out.constructed = (b & 0x20) != 0;
  out.tag = b & 0x1f;
  if (out.tag == 0x1f) {
    // base-128 tag number, at most 4 bytes, no leading 0x80.
    std::uint64_t number = 0;
    for (int n = 0;; ++n) {
      if (pos >= in.size() || n == 4)
        return std::nullopt;
      auto c = byte(pos++);
      if (n == 0 && c == 0x80)
        return std::nullopt;
      number = (number << 7) | (c & 0x7f);
      if ((c & 0x80) == 0)
        break;
    }
    if (number < 0x1f || number > 0x7fffffff)
      return std::nullopt;
    out.tag = static_cast<std::uint32_t>(number);
  }
  if (pos >= in.size())
    return std::nullopt;
  b = byte(pos++);
  size_t length = 0;
  if ((b & 0x80) == 0) {
    length = b & 0x7f;
  } else {
    unsigned num = b & 0x7fu;
    if (num == 0)
      return std::nullopt; // indefinite length: not DER
    for (unsigned i = 0; i < num; ++i) {
      if (pos >= in.size() || length >= (size_t{1} << 23))
        return std::nullopt;
      length = (length << 8) | byte(pos++);
      if (length == 0)
        return std::nullopt; // superfluous leading zeros
    }
    if (length < 0x80)
      return std::nullopt; // non-minimal length
  }
  if (in.size() - pos < length)
    return std::nullopt;
  out.content = in.substr(pos, length);
  out.whole = in.substr(0, pos + length);
  in.remove_prefix(pos + length);
  return out;
}

namespace {

// DER: a universal SEQUENCE or SET is constructed, every other universal
// type primitive (BER's constructed strings are refused, as Go does).
bool strict_form(const tlv& element) {
  if (element.cls != tag_class::universal)
    return true;
  auto needs_constructed
    = element.tag == tag::sequence || element.tag == tag::set;
  return element.constructed == needs_constructed;
}

bool strict_content(std::string_view content, int depth) {
  if (depth <= 0)
    return false;
  while (!content.empty()) {
    auto element = read(content);
    if (!element || !strict_form(*element))
      return false;
    if (element->constructed && !strict_content(element->content, depth - 1))
      return false;
  }
  return true;
}

} // namespace

bool is_strict(std::string_view in, int depth) {
  auto element = read(in);
  if (!element || !in.empty() || !strict_form(*element))
    return false;
  return !element->constructed || strict_content(element->content, depth - 1);
}

std::optional<std::string> oid_text(std::string_view content) {
  if (content.empty())
    return std::nullopt;
  std::string out;
  bool first = true;
  size_t pos = 0;
  while (pos < content.size()) {
    std::uint64_t value = 0;
    bool done = false;
    for (int n = 0; pos < content.size(); ++n) {
      auto c = static_cast<unsigned char>(content[pos++]);
      if (n == 0 && c == 0x80)
        return std::nullopt; // leading zero
      if (value > (std::uint64_t{1} << 56))
        return std::nullopt; // too large
      value = (value << 7) | (c & 0x7f);
      if ((c & 0x80) == 0) {
        done = true;
        break;
      }
    }
    if (!done)
      return std::nullopt;
    if (first) {
      first = false;
      if (value < 80) {
        out = std::to_string(value / 40) + "." + std::to_string(value % 40);
      } else {
        out = "2." + std::to_string(value - 80);
      }
    } else {
      out += '.';
      out += std::to_string(value);
    }
  }
  return out;
}

} // namespace istio_csr::pki::der
