#include "pki/pem.hpp"

#include <optional>

#include "pki/certificate.hpp"
#include "pki/crypto.hpp"
#include "pki/error.hpp"

namespace istio_csr::pki {

namespace {

constexpr std::string_view pem_start = "\n-----BEGIN ";
constexpr std::string_view pem_end = "\n-----END ";
constexpr std::string_view pem_end_of_line = "-----";

// Go's pem.getLine: the line without trailing spaces, tabs and CRs, and the
// rest after the newline.
std::pair<std::string_view, std::string_view> get_line(std::string_view data) {
  auto i = data.find('\n');
  std::string_view line, rest;
  if (i == std::string_view::npos) {
    line = data;
    rest = {};
  } else {
    line = data.substr(0, i);
    rest = data.substr(i + 1);
  }
  while (!line.empty()
         && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r'))
    line.remove_suffix(1);
  return {line, rest};
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
    // Headers ("Key: value" lines) are skipped; we support none of them.
    bool has_headers = false;
    bool truncated = false;
    for (;;) {
      if (rest.empty()) {
        truncated = true;
        break;
      }
      auto [line, next] = get_line(rest);
      if (line.find(':') == std::string_view::npos)
        break;
      has_headers = true;
      rest = next;
    }
    if (truncated)
      return std::nullopt;
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
    std::string b64;
    for (char c : rest.substr(0, end_index))
      if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
        b64 += c;
    if (b64.size() % 4 != 0)
      continue;
    auto der = base64_decode(b64);
    if (!der)
      continue;
    data = get_line(rest.substr(end_index + pem_end.size() - 1)).second;
    return pem_block{std::string{type_line}, std::move(*der)};
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
      return invalid("error parsing certificate: " + error_text(cert.error()));
    out.push_back(std::move(*cert));
  }
  if (out.empty())
    return invalid("no valid certificates found");
  return out;
}

} // namespace istio_csr::pki
