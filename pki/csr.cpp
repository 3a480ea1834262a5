#include "pki/csr.hpp"

#include <vector>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "errors/describe.hpp"
#include "pki/der.hpp"
#include "pki/detail.hpp"
#include "pki/error.hpp"
#include "pki/pem.hpp"

namespace istio_csr::pki {

namespace {

x509_req_ptr up_ref(X509_REQ* req) {
  // X509_REQ has no reference count: copies are deep (CSRs are small and
  // rarely copied).
  return x509_req_ptr{req != nullptr ? X509_REQ_dup(req) : nullptr};
}

struct ext_stack_deleter {
  void operator()(STACK_OF(X509_EXTENSION) * x) const noexcept {
    sk_X509_EXTENSION_pop_free(x, X509_EXTENSION_free);
  }
};
using ext_stack_ptr
  = std::unique_ptr<STACK_OF(X509_EXTENSION), ext_stack_deleter>;

/// PKCS#9 extensionRequest.
constexpr std::string_view extension_request_oid = "1.2.840.113549.1.9.14";

/// One attribute of a CertificationRequestInfo.
struct attribute {
  std::string oid;
  std::vector<std::string_view> values;
};

/// The attributes of the CSR `der` (already checked by `der::is_strict`):
/// each `[0]` element that parses as SEQUENCE { OID, SET OF ANY }; `bad` is
/// set when one does not.
std::vector<attribute> read_attributes(std::string_view der, bool& bad) {
  bad = false;
  std::vector<attribute> out;
  auto in = der;
  auto request = der::read(in);
  if (!request)
    return out;
  auto body = request->content;
  auto info = der::read(body);
  if (!info)
    return out;
  auto fields = info->content;
  // version, subject, subjectPublicKeyInfo
  for (int i = 0; i < 3; ++i)
    if (!der::read(fields))
      return out;
  while (!fields.empty()) {
    auto element = der::read(fields);
    if (!element)
      return out;
    if (element->cls != der::tag_class::context_specific || element->tag != 0)
      continue;
    auto attrs = element->content;
    while (!attrs.empty()) {
      auto attr = der::read(attrs);
      if (!attr || !attr->is(der::tag::sequence, true)) {
        bad = true;
        continue;
      }
      auto parts = attr->content;
      auto type = der::read(parts);
      auto set = der::read(parts);
      auto oid = type && type->is(der::tag::object_identifier, false)
                   ? der::oid_text(type->content)
                   : std::nullopt;
      if (!oid || !set || !set->is(der::tag::set, true) || !parts.empty()) {
        bad = true;
        continue;
      }
      attribute a{std::move(*oid), {}};
      for (auto values = set->content; !values.empty();) {
        auto value = der::read(values);
        if (!value) {
          bad = true;
          break;
        }
        a.values.push_back(value->whole);
      }
      out.push_back(std::move(a));
    }
  }
  return out;
}

/// Parses a SEQUENCE OF Extension. With `strict`, duplicate OIDs are an
/// error.
caf::expected<std::vector<x509_extension>>
read_extension_list(std::string_view value, bool strict) {
  auto in = value;
  auto seq = der::read(in);
  if (!seq || !seq->is(der::tag::sequence, true) || !in.empty())
    return invalid("extension request is not a SEQUENCE");
  std::vector<x509_extension> out;
  for (auto rest = seq->content; !rest.empty();) {
    auto ext = der::read(rest);
    if (!ext || !ext->is(der::tag::sequence, true))
      return invalid("malformed extension in the extension request");
    auto parts = ext->content;
    auto id = der::read(parts);
    auto oid = id && id->is(der::tag::object_identifier, false)
                 ? der::oid_text(id->content)
                 : std::nullopt;
    if (!oid)
      return invalid("malformed extension OID in the extension request");
    x509_extension e;
    e.oid = std::move(*oid);
    auto next = der::read(parts);
    if (next && next->is(der::tag::boolean, false)) {
      if (next->content.size() != 1
          || (next->content[0] != '\0' && next->content[0] != '\xff'))
        return invalid("malformed critical flag of extension " + e.oid);
      e.critical = next->content[0] != '\0';
      next = der::read(parts);
    }
    if (!next || !next->is(der::tag::octet_string, false) || !parts.empty())
      return invalid("malformed value of extension " + e.oid);
    e.value = std::string{next->content};
    if (strict)
      for (const auto& seen : out)
        if (seen.oid == e.oid)
          return invalid("duplicate extension " + e.oid
                         + " in the extension request");
    out.push_back(std::move(e));
  }
  return out;
}

} // namespace

caf::expected<csr> csr::from_pem(std::string_view pem) {
  auto block = first_pem_block(pem);
  if (!block)
    return invalid("failed to decode CSR PEM: "
                   + errors::message(block.error()));
  return from_der(block->der);
}

caf::expected<csr> csr::from_pem_exact(std::string_view pem) {
  auto der = pem_decode_exact(pem, "CERTIFICATE REQUEST");
  if (!der)
    return invalid("failed to decode CSR PEM: " + errors::message(der.error()));
  return from_der(*der);
}

caf::expected<csr> csr::from_der(std::string_view der) {
  if (!der::is_strict(der))
    return invalid("PKCS#10 certificate request is not DER");
  auto begin = reinterpret_cast<const unsigned char*>(der.data());
  auto p = begin;
  x509_req_ptr req{d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size()))};
  ERR_clear_error();
  if (!req)
    return invalid("cannot parse PKCS#10 certificate request");
  if (p != begin + der.size())
    return invalid("trailing data after PKCS#10 certificate request");
  return csr{std::move(req), std::string{der}};
}

csr::csr(const csr& other) : req_(up_ref(other.native())), der_(other.der_) {}

csr& csr::operator=(const csr& other) {
  if (this != &other) {
    req_ = up_ref(other.native());
    der_ = other.der_;
  }
  return *this;
}

std::string csr::to_pem() const {
  return pem_encode("CERTIFICATE REQUEST", der_);
}

bool csr::verify_signature() const {
  auto* key = X509_REQ_get0_pubkey(req_.get());
  auto res = key != nullptr && X509_REQ_verify(req_.get(), key) == 1;
  ERR_clear_error();
  return res;
}

distinguished_name csr::subject() const {
  return detail::read_name(X509_REQ_get_subject_name(req_.get()));
}

std::optional<std::string> csr::common_name() const {
  return subject().common_name;
}

bool csr::has_common_name() const {
  const auto* name = X509_REQ_get_subject_name(req_.get());
  for (int i = 0; i < X509_NAME_entry_count(name); ++i) {
    const auto* entry = X509_NAME_get_entry(name, i);
    if (OBJ_obj2nid(X509_NAME_ENTRY_get_object(entry)) == NID_commonName
        && ASN1_STRING_length(X509_NAME_ENTRY_get_data(entry)) > 0)
      return true;
  }
  return false;
}

caf::expected<subject_alt_names> csr::sans() const {
  auto exts = go_extensions();
  if (!exts)
    return std::move(exts.error());
  const x509_extension* last = nullptr;
  for (auto& ext : *exts)
    if (ext.oid == oid::subject_alt_name)
      last = &ext;
  if (last == nullptr)
    return subject_alt_names{};
  return decode_subject_alt_names(last->value);
}

caf::expected<std::vector<x509_extension>> csr::go_extensions() const {
  bool bad = false;
  std::vector<x509_extension> out;
  for (const auto& attr : read_attributes(der_, bad)) {
    if (attr.oid != extension_request_oid || attr.values.empty())
      continue;
    auto exts = read_extension_list(attr.values.front(), false);
    if (!exts)
      return std::move(exts.error());
    out.insert(out.end(), exts->begin(), exts->end());
  }
  return out;
}

caf::expected<std::vector<x509_extension>> csr::requested_extensions() const {
  bool bad = false;
  auto attrs = read_attributes(der_, bad);
  if (bad)
    return invalid("malformed CSR attribute");
  if (attrs.empty())
    return std::vector<x509_extension>{};
  for (const auto& attr : attrs)
    if (attr.oid != extension_request_oid)
      return invalid("unsupported CSR attribute " + attr.oid);
  if (attrs.size() > 1)
    return invalid("more than one extensionRequest attribute");
  if (attrs.front().values.size() != 1)
    return invalid("the extensionRequest attribute must have exactly one "
                   "value");
  return read_extension_list(attrs.front().values.front(), true);
}

pki::public_key csr::public_key() const {
  return pki::public_key::from_native(X509_REQ_get0_pubkey(req_.get()));
}

std::string csr::public_key_der() const {
  return detail::to_der(X509_REQ_get_X509_PUBKEY(req_.get()), i2d_X509_PUBKEY);
}

caf::expected<csr> make_csr(const private_key& key, const csr_template& tmpl) {
  x509_req_ptr req{X509_REQ_new()};
  if (!req || X509_REQ_set_version(req.get(), 0) != 1)
    return openssl_failure("cannot create CSR");
  auto name = detail::make_name(tmpl.subject);
  if (!name || X509_REQ_set_subject_name(req.get(), name.get()) != 1)
    return openssl_failure("cannot set CSR subject");
  if (X509_REQ_set_pubkey(req.get(), key.native()) != 1)
    return openssl_failure("cannot set CSR public key");
  ext_stack_ptr exts{sk_X509_EXTENSION_new_null()};
  auto push = [&](std::string_view oid, bool critical, std::string_view der) {
    auto ext = detail::make_extension(oid, critical, der);
    if (!ext || sk_X509_EXTENSION_push(exts.get(), ext.get()) <= 0)
      return false;
    static_cast<void>(ext.release());
    return true;
  };
  if (!tmpl.sans.empty()) {
    auto der = encode_subject_alt_names(tmpl.sans);
    if (!der)
      return std::move(der.error());
    if (!push(oid::subject_alt_name, tmpl.san_critical, *der))
      return openssl_failure("cannot add SAN extension");
  }
  for (const auto& ext : tmpl.extra_extensions)
    if (!push(ext.oid, ext.critical, ext.value))
      return invalid("cannot add extension " + ext.oid);
  if (sk_X509_EXTENSION_num(exts.get()) > 0
      && X509_REQ_add_extensions(req.get(), exts.get()) != 1)
    return openssl_failure("cannot add CSR extensions");
  if (X509_REQ_sign(req.get(), key.native(), EVP_sha256()) <= 0)
    return openssl_failure("cannot sign CSR");
  // Re-parse so that cached encodings match what a peer would see.
  return csr::from_der(detail::to_der(req.get(), i2d_X509_REQ));
}

} // namespace istio_csr::pki
