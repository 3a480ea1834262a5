#include "pki/pem.hpp"

#include <array>
#include <cstdint>
#include <optional>

#include "errors/describe.hpp"
#include "pki/certificate.hpp"
#include "pki/crypto.hpp"
#include "pki/error.hpp"

namespace istio_csr::pki {

namespace {

constexpr std::string_view pem_start = "\n-----BEGIN ";
constexpr std::string_view pem_end = "\n-----END ";
constexpr std::string_view pem_end_of_line = "-----";

// Go's pem.getLine: the line up to '\n' without one '\r' before it, then
// without trailing spaces and tabs; and the rest after the newline.
std::pair<std::string_view, std::string_view> get_line(std::string_view data) {
  auto i = data.find('\n');
  std::string_view line, rest;
  if (i == std::string_view::npos) {
    line = data;
    rest = {};
  } else {
    rest = data.substr(i + 1);
    if (i > 0 && data[i - 1] == '\r')
      --i;
    line = data.substr(0, i);
  }
  while (!line.empty() && (line.back() == ' ' || line.back() == '\t'))
    line.remove_suffix(1);
  return {line, rest};
}

bool is_space_or_tab(char c) {
  return c == ' ' || c == '\t';
}

// Go's strings.TrimSpace on a header key or value (ASCII white space; Go
// also trims Unicode spaces, which no header we accept carries).
std::string_view trim_space(std::string_view s) {
  auto space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v'
           || c == '\f';
  };
  while (!s.empty() && space(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && space(s.back()))
    s.remove_suffix(1);
  return s;
}

// Go's base64.StdEncoding.Decode (not Strict): '\r' and '\n' are skipped
// anywhere, padding is required, non-zero trailing bits are accepted,
// nothing but newlines may follow the padding.
std::optional<std::string> go_base64_decode(std::string_view src) {
  static const auto table = [] {
    std::array<int, 256> t;
    t.fill(-1);
    constexpr std::string_view alphabet
      = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < alphabet.size(); ++i)
      t[static_cast<unsigned char>(alphabet[i])] = static_cast<int>(i);
    return t;
  }();
  auto newline = [](char c) { return c == '\n' || c == '\r'; };
  std::string out;
  out.reserve(src.size() / 4 * 3);
  size_t si = 0;
  for (;;) {
    std::array<int, 4> quantum{0, 0, 0, 0};
    size_t j = 0;
    bool end = false;
    while (j < 4) {
      if (si == src.size()) {
        if (j == 0)
          return out;        // clean end
        return std::nullopt; // a partial quantum without padding
      }
      auto c = src[si++];
      if (auto v = table[static_cast<unsigned char>(c)]; v >= 0) {
        quantum[j++] = v;
        continue;
      }
      if (newline(c))
        continue;
      if (c != '=')
        return std::nullopt;
      // Padding.
      if (j < 2)
        return std::nullopt;
      if (j == 2) {
        // "==" expected; the first '=' is consumed.
        while (si < src.size() && newline(src[si]))
          ++si;
        if (si == src.size() || src[si] != '=')
          return std::nullopt;
        ++si;
      }
      while (si < src.size() && newline(src[si]))
        ++si;
      if (si < src.size())
        return std::nullopt; // trailing garbage
      end = true;
      break;
    }
    auto v = (std::uint32_t(quantum[0]) << 18)
             | (std::uint32_t(quantum[1]) << 12)
             | (std::uint32_t(quantum[2]) << 6) | std::uint32_t(quantum[3]);
    auto bytes = end ? j - 1 : 3;
    out += static_cast<char>((v >> 16) & 0xff);
    if (bytes > 1)
      out += static_cast<char>((v >> 8) & 0xff);
    if (bytes > 2)
      out += static_cast<char>(v & 0xff);
    if (end)
      return out;
  }
}

// Decodes one block the way Go's pem.Decode does: malformed candidates are
// skipped. On success, `rest` is what follows the block.
std::optional<pem_block> decode_one(std::string_view& data) {
  auto rest = data;
  for (;;) {
    if (rest.starts_with(pem_start.substr(1))) {
      rest.remove_prefix(pem_start.size() - 1);
    } else if (auto i = rest.find(pem_start); i != std::string_view::npos) {
      rest.remove_prefix(i + pem_start.size());
    } else {
      return std::nullopt;
    }
    auto [type_line, after_type] = get_line(rest);
    rest = after_type;
    if (!type_line.ends_with(pem_end_of_line))
      continue;
    type_line.remove_suffix(pem_end_of_line.size());
    // Headers: "Key: value" lines (Go keeps the last value of a key).
    std::vector<std::pair<std::string, std::string>> headers;
    for (;;) {
      // Go gives up on the whole text here, not only on this candidate.
      if (rest.empty())
        return std::nullopt;
      auto [line, next] = get_line(rest);
      auto colon = line.find(':');
      if (colon == std::string_view::npos)
        break;
      headers.emplace_back(trim_space(line.substr(0, colon)),
                           trim_space(line.substr(colon + 1)));
      rest = next;
    }
    bool has_headers = !headers.empty();
    size_t end_index = 0;
    size_t end_trailer_index = 0;
    if (!has_headers && rest.starts_with(pem_end.substr(1))) {
      end_index = 0;
      end_trailer_index = pem_end.size() - 1;
    } else {
      end_index = rest.find(pem_end);
      if (end_index == std::string_view::npos)
        continue;
      end_trailer_index = end_index + pem_end.size();
    }
    auto end_trailer = rest.substr(end_trailer_index);
    auto end_trailer_len = type_line.size() + pem_end_of_line.size();
    if (end_trailer.size() < end_trailer_len)
      continue;
    auto rest_of_end_line = end_trailer.substr(end_trailer_len);
    end_trailer = end_trailer.substr(0, end_trailer_len);
    if (!end_trailer.starts_with(type_line)
        || !end_trailer.ends_with(pem_end_of_line))
      continue;
    if (!get_line(rest_of_end_line).first.empty())
      continue;
    // Go removes spaces and tabs; its base64 decoder skips '\r' and '\n'.
    std::string b64;
    for (char c : rest.substr(0, end_index))
      if (!is_space_or_tab(c))
        b64 += c;
    auto der = go_base64_decode(b64);
    if (!der)
      continue;
    data = get_line(rest.substr(end_index + pem_end.size() - 1)).second;
    return pem_block{std::string{type_line}, std::move(*der),
                     std::move(headers)};
  }
}

} // namespace

std::string pem_encode(std::string_view type, std::string_view der) {
  auto b64 = base64_encode(der);
  std::string out;
  out.reserve(b64.size() + b64.size() / 64 + 2 * type.size() + 40);
  out += "-----BEGIN ";
  out += type;
  out += "-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) {
    out += b64.substr(i, 64);
    out += '\n';
  }
  out += "-----END ";
  out += type;
  out += "-----\n";
  return out;
}

caf::expected<pem_block> first_pem_block(std::string_view text) {
  if (auto block = decode_one(text))
    return std::move(*block);
  return invalid("no PEM block found");
}

std::vector<pem_block> pem_blocks(std::string_view text) {
  std::vector<pem_block> out;
  while (auto block = decode_one(text))
    out.push_back(std::move(*block));
  return out;
}

namespace {

bool is_white(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
         || (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
}

// Consumes an end of line (CRLF or LF) at the front of `in`.
bool take_newline(std::string_view& in) {
  if (in.starts_with("\r\n")) {
    in.remove_prefix(2);
    return true;
  }
  if (in.starts_with("\n")) {
    in.remove_prefix(1);
    return true;
  }
  return false;
}

void skip_spaces_and_tabs(std::string_view& in) {
  while (!in.empty() && is_space_or_tab(in.front()))
    in.remove_prefix(1);
}

} // namespace

caf::expected<std::string> pem_decode_exact(std::string_view text,
                                            std::string_view type) {
  auto begin_line = "-----BEGIN " + std::string{type} + "-----";
  auto end_line = "-----END " + std::string{type} + "-----";
  auto in = text;
  auto begin = in.find("-----BEGIN ");
  if (begin == std::string_view::npos)
    return invalid("no PEM block found");
  auto leading = in.substr(0, begin);
  for (char c : leading)
    if (!is_white(c))
      return invalid("text before the PEM block");
  if (!leading.empty() && leading.back() != '\n')
    return invalid("the BEGIN line does not start a line");
  in.remove_prefix(begin);
  if (!in.starts_with(begin_line))
    return invalid("not a \"" + std::string{type} + "\" PEM block");
  in.remove_prefix(begin_line.size());
  skip_spaces_and_tabs(in);
  if (!take_newline(in))
    return invalid("malformed BEGIN line");
  std::string b64;
  for (;;) {
    if (in.starts_with("-----END "))
      break;
    size_t n = 0;
    while (n < in.size() && is_base64_char(in[n]))
      ++n;
    if (n == 0)
      return invalid("malformed PEM data line");
    b64.append(in.substr(0, n));
    in.remove_prefix(n);
    if (!take_newline(in))
      return invalid("malformed PEM data line");
  }
  if (!in.starts_with(end_line))
    return invalid("the END line does not match the BEGIN line");
  in.remove_prefix(end_line.size());
  skip_spaces_and_tabs(in);
  if (!in.empty() && !take_newline(in))
    return invalid("malformed END line");
  for (char c : in)
    if (!is_white(c))
      return invalid("text after the PEM block");
  if (b64.empty() || b64.size() % 4 != 0)
    return invalid("PEM data is not canonical base64");
  auto der = base64_decode(b64);
  if (!der || der->empty())
    return invalid("PEM data is not canonical base64");
  // What a Go program reads from the same text must be the same.
  auto go = pem_blocks(text);
  if (go.size() != 1 || go.front().type != type || !go.front().headers.empty()
      || go.front().der != *der)
    return invalid("PEM text reads differently in Go");
  return std::move(*der);
}

caf::expected<std::vector<certificate>>
parse_pem_bundle(std::string_view text, std::size_t max_bytes) {
  if (text.size() > max_bytes)
    return invalid("certificate PEM bundle exceeds " + std::to_string(max_bytes)
                   + " bytes");
  std::vector<certificate> out;
  for (auto& block : pem_blocks(text)) {
    if (block.type != "CERTIFICATE")
      return invalid("unexpected PEM block \"" + block.type
                     + "\" in certificate bundle");
    auto cert = certificate::from_der(block.der);
    if (!cert)
      return invalid("error parsing certificate: "
                     + errors::message(cert.error()));
    out.push_back(std::move(*cert));
  }
  if (out.empty())
    return invalid("no valid certificates found");
  return out;
}

} // namespace istio_csr::pki
