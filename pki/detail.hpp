#pragma once

// Helpers shared by the .cpp files of pki/. Not part of the public API and
// never included from a public header.

#include <string>
#include <string_view>
#include <vector>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/x509.h>

#include "pki/extensions.hpp"
#include "pki/handles.hpp"
#include "pki/names.hpp"

namespace istio_csr::pki::detail {

/// A read-only memory BIO over `data` (which must outlive it).
inline bio_ptr mem_bio(std::string_view data) {
  return bio_ptr{BIO_new_mem_buf(data.data(), static_cast<int>(data.size()))};
}

/// Everything written to a memory BIO.
inline std::string bio_string(BIO* bio) {
  char* data = nullptr;
  auto len = BIO_get_mem_data(bio, &data);
  return len > 0 ? std::string(data, static_cast<size_t>(len)) : std::string{};
}

/// The DER encoding of `x` with the given i2d function.
template <class T, class F>
std::string to_der(T* x, F i2d) {
  unsigned char* buf = nullptr;
  auto len = i2d(x, &buf);
  if (len <= 0)
    return {};
  std::string out(reinterpret_cast<char*>(buf), static_cast<size_t>(len));
  OPENSSL_free(buf);
  return out;
}

/// Dotted text of an OID.
std::string oid_text(const ASN1_OBJECT* obj);

/// Raw bytes of an ASN1_STRING (OCTET STRING, IA5String, ...).
inline std::string asn1_bytes(const ASN1_STRING* s) {
  if (s == nullptr)
    return {};
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
}

/// The CN, O and OU attributes of `name`.
distinguished_name read_name(const X509_NAME* name);

/// RFC 2253 one-line form of `name`.
std::string name_oneline(const X509_NAME* name);

/// Builds an X509_NAME with O, OU, then CN (Go's attribute order) as
/// UTF8Strings; empty values are allowed.
x509_name_ptr make_name(const distinguished_name& dn);

/// Copies `exts` into plain values.
std::vector<x509_extension> read_extensions(const STACK_OF(X509_EXTENSION)
                                            * exts);

/// Wraps a raw extension value. Null on failure.
x509_extension_ptr make_extension(std::string_view oid, bool critical,
                                  std::string_view der);

} // namespace istio_csr::pki::detail
