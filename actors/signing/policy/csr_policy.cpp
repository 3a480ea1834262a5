#include "actors/signing/policy/csr_policy.hpp"

#include <algorithm>
#include <array>

#include "pki/csr.hpp"
#include "pki/error.hpp"

namespace istio_csr::actors::signing::policy {

namespace {

/// One DER TLV, parsed with the rules of Go's encoding/asn1.
struct tlv {
  int cls = 0;
  bool constructed = false;
  std::uint32_t tag = 0;
  std::string_view content;
};

/// Parses the TLV at the front of `in`, advancing `in` past it. Rejects what
/// Go's `parseTagAndLength` rejects: high tag numbers that could have been
/// low or have leading zeros, indefinite lengths, non-minimal lengths,
/// truncated content.
std::optional<tlv> read_tlv(std::string_view& in) {
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
    std::uint64_t tag = 0;
    for (int n = 0;; ++n) {
      if (pos >= in.size() || n == 4)
        return std::nullopt;
      auto c = byte(pos++);
      if (n == 0 && c == 0x80)
        return std::nullopt;
      tag = (tag << 7) | (c & 0x7f);
      if ((c & 0x80) == 0)
        break;
    }
    if (tag < 0x1f || tag > 0x7fffffff)
      return std::nullopt;
    out.tag = static_cast<std::uint32_t>(tag);
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
  in.remove_prefix(pos + length);
  return out;
}

std::string hex_bytes(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out = "[";
  for (unsigned char c : bytes) {
    if (out.size() > 1)
      out += ' ';
    out += digits[c >> 4];
    out += digits[c & 0x0f];
  }
  out += ']';
  return out;
}

// `bytes` as text if it is printable ASCII, else as hex.
std::string printable(std::string_view bytes) {
  for (unsigned char c : bytes)
    if (c < 0x20 || c > 0x7e)
      return hex_bytes(bytes);
  return std::string{bytes};
}

std::string join(const std::vector<std::string>& xs) {
  std::string out;
  for (const auto& x : xs) {
    if (!out.empty())
      out += ", ";
    out += x;
  }
  return out;
}

} // namespace

std::string_view to_string(csr_reason reason) {
  switch (reason) {
    case csr_reason::malformed: return "malformed";
    case csr_reason::bad_signature: return "bad_signature";
    case csr_reason::forbidden_names: return "forbidden_names";
    case csr_reason::forbidden_extensions: return "forbidden_extensions";
    case csr_reason::identity_mismatch: return "identity_mismatch";
  }
  return "unknown";
}

std::optional<std::string>
validate_subject_alt_name_extension(const pki::x509_extension& ext) {
  if (ext.oid != pki::oid::subject_alt_name)
    return "extension is not a SAN type: " + ext.oid;
  std::string_view in = ext.value;
  auto seq = read_tlv(in);
  if (!seq)
    return "failed to unmarshal san extension";
  if (!in.empty())
    return "san extension incorrectly encoded: " + hex_bytes(ext.value);
  if (!seq->constructed || seq->tag != 16 || seq->cls != 0)
    return "san extension is incorrectly encoded: " + hex_bytes(ext.value);
  for (auto rest = seq->content; !rest.empty();) {
    auto name = read_tlv(rest);
    if (!name)
      return "failed to unmarshal general name in san extension";
    if (name->tag != 6)
      return "non uri san extension given: " + printable(name->content);
  }
  return std::nullopt;
}

std::optional<std::string>
validate_key_usage_extension(std::string_view value) {
  static constexpr std::array<std::array<unsigned char, 4>, 2> allowed{{
    {3, 2, 7, 128}, // digitalSignature
    {3, 2, 5, 32},  // keyEncipherment
  }};
  if (value.size() != 4)
    return "forbidden key usage: " + hex_bytes(value);
  std::array<unsigned char, 4> bytes;
  for (size_t i = 0; i < 4; ++i)
    bytes[i] = static_cast<unsigned char>(value[i]);
  for (const auto& usage : allowed)
    for (size_t i = 0; i < 4; ++i)
      bytes[i] &= static_cast<unsigned char>(~usage[i]);
  if (bytes != std::array<unsigned char, 4>{0, 0, 0, 0})
    return "forbidden key usage: " + hex_bytes(value);
  return std::nullopt;
}

std::optional<std::string>
validate_ext_key_usage_extension(const pki::x509_extension& ext) {
  if (ext.oid != pki::oid::ext_key_usage)
    return "non extended key usage extension: " + ext.oid;
  auto oids = pki::decode_ext_key_usage(ext.value);
  if (!oids)
    return "failed to parse extended key usages: "
           + pki::error_text(oids.error());
  std::vector<std::string> errs;
  for (const auto& oid : *oids)
    if (oid != pki::oid::client_auth && oid != pki::oid::server_auth)
      errs.push_back("forbidden extended key usage: " + oid);
  if (!errs.empty())
    return join(errs);
  return std::nullopt;
}

std::vector<std::string>
validate_csr_extensions(const std::vector<pki::x509_extension>& extensions) {
  std::vector<std::string> errs;
  for (const auto& ext : extensions) {
    std::optional<std::string> err;
    if (ext.oid == pki::oid::subject_alt_name)
      err = validate_subject_alt_name_extension(ext);
    else if (ext.oid == pki::oid::key_usage)
      err = validate_key_usage_extension(ext.value);
    else if (ext.oid == pki::oid::ext_key_usage)
      err = validate_ext_key_usage_extension(ext);
    else
      err = "forbidden extension: " + ext.oid;
    if (err)
      errs.push_back(std::move(*err));
  }
  return errs;
}

bool identities_match(std::vector<std::string> identities,
                      std::vector<std::string> uris) {
  if (identities.size() != uris.size())
    return false;
  std::sort(identities.begin(), identities.end());
  std::sort(uris.begin(), uris.end());
  return identities == uris;
}

std::optional<csr_rejection>
authorize_csr(std::string_view csr_pem,
              const std::vector<std::string>& identities) {
  auto request = pki::csr::from_pem(csr_pem);
  if (!request)
    return csr_rejection{csr_reason::malformed,
                         "failed to decode CSR: "
                           + pki::error_text(request.error())};
  auto extensions = request->extensions();
  // All SAN extensions count, as in Go's CSR parser.
  pki::subject_alt_names sans;
  for (const auto& ext : extensions) {
    if (ext.oid != pki::oid::subject_alt_name)
      continue;
    auto decoded = pki::decode_subject_alt_names(ext.value);
    if (!decoded)
      return csr_rejection{csr_reason::malformed,
                           "failed to decode CSR: "
                             + pki::error_text(decoded.error())};
    auto append = [](auto& to, auto& from) {
      to.insert(to.end(), from.begin(), from.end());
    };
    append(sans.dns, decoded->dns);
    append(sans.ips, decoded->ips);
    append(sans.uris, decoded->uris);
    append(sans.emails, decoded->emails);
  }
  if (!request->verify_signature())
    return csr_rejection{csr_reason::bad_signature,
                         "CSR failed signature check"};
  auto cn = request->common_name();
  if (!sans.dns.empty() || !sans.ips.empty() || !sans.emails.empty()
      || (cn && !cn->empty()))
    return csr_rejection{csr_reason::forbidden_names,
                         "forbidden extensions: dns=[" + join(sans.dns)
                           + "] ips=[" + join(sans.ips)
                           + "] common-name=" + cn.value_or("") + " emails=["
                           + join(sans.emails) + "]"};
  if (auto errs = validate_csr_extensions(extensions); !errs.empty())
    return csr_rejection{csr_reason::forbidden_extensions,
                         "forbidden extensions: " + join(errs)};
  if (!identities_match(identities, sans.uris))
    return csr_rejection{csr_reason::identity_mismatch,
                         "failed to match URIs with identities: ["
                           + join(identities) + "] != [" + join(sans.uris)
                           + "]"};
  return std::nullopt;
}

} // namespace istio_csr::actors::signing::policy
