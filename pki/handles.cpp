#include "pki/handles.hpp"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

namespace istio_csr::pki {

void openssl_deleter::operator()(EVP_PKEY* x) const noexcept {
  EVP_PKEY_free(x);
}

void openssl_deleter::operator()(X509* x) const noexcept {
  X509_free(x);
}

void openssl_deleter::operator()(X509_REQ* x) const noexcept {
  X509_REQ_free(x);
}

void openssl_deleter::operator()(X509_STORE* x) const noexcept {
  X509_STORE_free(x);
}

void openssl_deleter::operator()(X509_STORE_CTX* x) const noexcept {
  X509_STORE_CTX_free(x);
}

void openssl_deleter::operator()(X509_EXTENSION* x) const noexcept {
  X509_EXTENSION_free(x);
}

void openssl_deleter::operator()(X509_NAME* x) const noexcept {
  X509_NAME_free(x);
}

void openssl_deleter::operator()(BIO* x) const noexcept {
  BIO_free_all(x);
}

void openssl_deleter::operator()(EVP_MD_CTX* x) const noexcept {
  EVP_MD_CTX_free(x);
}

void openssl_deleter::operator()(EVP_PKEY_CTX* x) const noexcept {
  EVP_PKEY_CTX_free(x);
}

void openssl_deleter::operator()(BIGNUM* x) const noexcept {
  BN_clear_free(x);
}

void openssl_deleter::operator()(ASN1_INTEGER* x) const noexcept {
  ASN1_INTEGER_free(x);
}

void openssl_deleter::operator()(ASN1_OBJECT* x) const noexcept {
  ASN1_OBJECT_free(x);
}

} // namespace istio_csr::pki
