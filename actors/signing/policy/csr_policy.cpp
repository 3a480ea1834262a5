#include "actors/signing/policy/csr_policy.hpp"

#include <algorithm>
#include <array>

#include "errors/describe.hpp"
#include "pki/csr.hpp"
#include "pki/der.hpp"
#include "pki/error.hpp"
#include "pki/pem.hpp"

namespace istio_csr::actors::signing::policy {

namespace {

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
  auto seq = pki::der::read(in);
  if (!seq)
    return "failed to unmarshal san extension";
  if (!in.empty())
    return "san extension incorrectly encoded: " + hex_bytes(ext.value);
  if (!seq->constructed || seq->tag != 16 || seq->cls != 0)
    return "san extension is incorrectly encoded: " + hex_bytes(ext.value);
  for (auto rest = seq->content; !rest.empty();) {
    auto name = pki::der::read(rest);
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
           + errors::message(oids.error());
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

std::string approved_csr::pem() const {
  return pki::pem_encode("CERTIFICATE REQUEST", der);
}

std::variant<approved_csr, csr_rejection>
authorize_csr(std::string_view csr_pem,
              const std::vector<std::string>& identities) {
  auto malformed = [](std::string detail) {
    return csr_rejection{csr_reason::malformed,
                         "failed to decode CSR: " + std::move(detail)};
  };
  if (csr_pem.size() > max_csr_pem_bytes)
    return malformed("the CSR PEM has " + std::to_string(csr_pem.size())
                     + " bytes, more than "
                     + std::to_string(max_csr_pem_bytes));
  auto request = pki::csr::from_pem_exact(csr_pem);
  if (!request)
    return malformed(errors::message(request.error()));
  auto extensions = request->requested_extensions();
  if (!extensions)
    return malformed(errors::message(extensions.error()));
  // At most one SAN extension: duplicates are refused above.
  pki::subject_alt_names sans;
  for (const auto& ext : *extensions) {
    if (ext.oid != pki::oid::subject_alt_name)
      continue;
    auto decoded = pki::decode_subject_alt_names(ext.value);
    if (!decoded)
      return malformed(errors::message(decoded.error()));
    sans = std::move(*decoded);
  }
  if (!request->verify_signature())
    return csr_rejection{csr_reason::bad_signature,
                         "CSR failed signature check"};
  auto cn = request->common_name();
  if (!sans.dns.empty() || !sans.ips.empty() || !sans.emails.empty()
      || request->has_common_name())
    return csr_rejection{csr_reason::forbidden_names,
                         "forbidden extensions: dns=[" + join(sans.dns)
                           + "] ips=[" + join(sans.ips)
                           + "] common-name=" + cn.value_or("") + " emails=["
                           + join(sans.emails) + "]"};
  if (auto errs = validate_csr_extensions(*extensions); !errs.empty())
    return csr_rejection{csr_reason::forbidden_extensions,
                         "forbidden extensions: " + join(errs)};
  if (!identities_match(identities, sans.uris))
    return csr_rejection{csr_reason::identity_mismatch,
                         "failed to match URIs with identities: ["
                           + join(identities) + "] != [" + join(sans.uris)
                           + "]"};
  return approved_csr{request->to_der(), request->public_key_der(), identities};
}

std::optional<std::string> check_issued_leaf(const pki::certificate& leaf,
                                             const approved_csr& approved) {
  std::vector<std::string> problems;
  // The same SubjectPublicKeyInfo bytes are the same key; other bytes may
  // still encode it (decoding both is the slow path).
  if (leaf.public_key_der() != approved.public_key_der) {
    auto key = pki::public_key::from_der(approved.public_key_der);
    if (!key || !(leaf.public_key() == *key))
      problems.emplace_back("its public key is not the CSR's");
  }
  auto sans = leaf.sans();
  if (!identities_match(approved.identities, sans.uris))
    problems.push_back("its URI SANs [" + join(sans.uris)
                       + "] are not the approved identities ["
                       + join(approved.identities) + "]");
  if (!sans.dns.empty() || !sans.ips.empty() || !sans.emails.empty())
    problems.push_back("it carries names that were not approved: dns=["
                       + join(sans.dns) + "] ips=[" + join(sans.ips)
                       + "] emails=[" + join(sans.emails) + "]");
  if (leaf.is_ca())
    problems.emplace_back("it is a CA certificate");
  if (problems.empty())
    return std::nullopt;
  return "the issued certificate does not match the approved request: "
         + join(problems);
}

} // namespace istio_csr::actors::signing::policy
