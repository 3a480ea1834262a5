#pragma once

#include <memory>

#include <openssl/types.h>

// Not declared by <openssl/types.h>; same typedefs as <openssl/x509.h>.
typedef struct X509_req_st X509_REQ;
typedef struct X509_extension_st X509_EXTENSION;

namespace istio_csr::pki {

/// Deleters for the OpenSSL objects this module owns. They are functions of
/// the .cpp so that users of the handles need no OpenSSL headers but
/// <openssl/types.h>.
struct openssl_deleter {
  void operator()(EVP_PKEY* x) const noexcept;
  void operator()(X509* x) const noexcept;
  void operator()(X509_REQ* x) const noexcept;
  void operator()(X509_STORE* x) const noexcept;
  void operator()(X509_STORE_CTX* x) const noexcept;
  void operator()(X509_EXTENSION* x) const noexcept;
  void operator()(X509_NAME* x) const noexcept;
  void operator()(BIO* x) const noexcept;
  void operator()(EVP_MD_CTX* x) const noexcept;
  void operator()(EVP_PKEY_CTX* x) const noexcept;
  void operator()(BIGNUM* x) const noexcept;
  void operator()(ASN1_INTEGER* x) const noexcept;
  void operator()(ASN1_OBJECT* x) const noexcept;
};

using pkey_ptr = std::unique_ptr<EVP_PKEY, openssl_deleter>;
using x509_ptr = std::unique_ptr<X509, openssl_deleter>;
using x509_req_ptr = std::unique_ptr<X509_REQ, openssl_deleter>;
using x509_store_ptr = std::unique_ptr<X509_STORE, openssl_deleter>;
using x509_store_ctx_ptr = std::unique_ptr<X509_STORE_CTX, openssl_deleter>;
using x509_extension_ptr = std::unique_ptr<X509_EXTENSION, openssl_deleter>;
using x509_name_ptr = std::unique_ptr<X509_NAME, openssl_deleter>;
using bio_ptr = std::unique_ptr<BIO, openssl_deleter>;
using md_ctx_ptr = std::unique_ptr<EVP_MD_CTX, openssl_deleter>;
using pkey_ctx_ptr = std::unique_ptr<EVP_PKEY_CTX, openssl_deleter>;
using bignum_ptr = std::unique_ptr<BIGNUM, openssl_deleter>;
using asn1_integer_ptr = std::unique_ptr<ASN1_INTEGER, openssl_deleter>;
using asn1_object_ptr = std::unique_ptr<ASN1_OBJECT, openssl_deleter>;

} // namespace istio_csr::pki
