#include "pki/csr.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

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

} // namespace

caf::expected<csr> csr::from_pem(std::string_view pem) {
  auto block = first_pem_block(pem);
  if (!block)
    return invalid("failed to decode CSR PEM: " + error_text(block.error()));
  return from_der(block->der);
}

caf::expected<csr> csr::from_der(std::string_view der) {
  auto begin = reinterpret_cast<const unsigned char*>(der.data());
  auto p = begin;
  x509_req_ptr req{d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size()))};
  if (!req)
    return invalid("cannot parse PKCS#10 certificate request");
  if (p != begin + der.size())
    return invalid("trailing data after PKCS#10 certificate request");
  return csr{std::move(req)};
}

csr::csr(const csr& other) : req_(up_ref(other.native())) {}

csr& csr::operator=(const csr& other) {
  if (this != &other)
    req_ = up_ref(other.native());
  return *this;
}

std::string csr::to_pem() const {
  return pem_encode("CERTIFICATE REQUEST", to_der());
}

std::string csr::to_der() const {
  return detail::to_der(req_.get(), i2d_X509_REQ);
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

caf::expected<subject_alt_names> csr::sans() const {
  for (auto& ext : extensions())
    if (ext.oid == oid::subject_alt_name)
      return decode_subject_alt_names(ext.value);
  return subject_alt_names{};
}

std::vector<x509_extension> csr::extensions() const {
  ext_stack_ptr exts{X509_REQ_get_extensions(req_.get())};
  ERR_clear_error();
  if (!exts)
    return {};
  return detail::read_extensions(exts.get());
}

pki::public_key csr::public_key() const {
  return pki::public_key::from_native(X509_REQ_get0_pubkey(req_.get()));
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
