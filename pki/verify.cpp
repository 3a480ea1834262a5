#include "pki/verify.hpp"

#include <ctime>

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "pki/error.hpp"

namespace istio_csr::pki {

namespace {

struct cert_stack_deleter {
  // The stack does not own its certificates: the caller's vectors do.
  void operator()(STACK_OF(X509) * x) const noexcept {
    sk_X509_free(x);
  }
};
using cert_stack_ptr = std::unique_ptr<STACK_OF(X509), cert_stack_deleter>;

caf::error verify_once(const certificate& leaf, STACK_OF(X509) * untrusted,
                       X509_STORE* store, int purpose, time_t at) {
  x509_store_ctx_ptr ctx{X509_STORE_CTX_new()};
  if (!ctx
      || X509_STORE_CTX_init(ctx.get(), store, leaf.native(), untrusted) != 1)
    return openssl_failure("cannot initialise certificate verification");
  auto* param = X509_STORE_CTX_get0_param(ctx.get());
  // Like Go's x509 pools, any certificate in the roots is a trust anchor,
  // self-signed or not.
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
  X509_VERIFY_PARAM_set_time(param, at);
  if (purpose != 0 && X509_STORE_CTX_set_purpose(ctx.get(), purpose) != 1)
    return openssl_failure("cannot set verification purpose");
  if (X509_verify_cert(ctx.get()) == 1) {
    ERR_clear_error();
    return {};
  }
  auto code = X509_STORE_CTX_get_error(ctx.get());
  std::string text = "certificate verification failed: ";
  text += X509_verify_cert_error_string(code);
  text += " (depth " + std::to_string(X509_STORE_CTX_get_error_depth(ctx.get()))
          + ")";
  return invalid(std::move(text));
}

} // namespace

caf::error
verify_chain(const certificate& leaf,
             const std::vector<certificate>& intermediates,
             const std::vector<certificate>& roots, verify_purpose purpose,
             std::optional<std::chrono::system_clock::time_point> at) {
  if (roots.empty())
    return invalid("certificate verification failed: no root certificates");
  x509_store_ptr store{X509_STORE_new()};
  cert_stack_ptr untrusted{sk_X509_new_null()};
  if (!store || !untrusted)
    return openssl_failure("out of memory");
  for (const auto& root : roots)
    if (X509_STORE_add_cert(store.get(), root.native()) != 1) {
      // Duplicates in the root list are harmless.
      ERR_clear_error();
    }
  for (const auto& cert : intermediates)
    if (sk_X509_push(untrusted.get(), cert.native()) <= 0)
      return openssl_failure("out of memory");
  auto when = std::chrono::system_clock::to_time_t(
    at.value_or(std::chrono::system_clock::now()));
  switch (purpose) {
    case verify_purpose::any:
      return verify_once(leaf, untrusted.get(), store.get(), 0, when);
    case verify_purpose::server_auth:
      return verify_once(leaf, untrusted.get(), store.get(),
                         X509_PURPOSE_SSL_SERVER, when);
    case verify_purpose::client_auth:
      return verify_once(leaf, untrusted.get(), store.get(),
                         X509_PURPOSE_SSL_CLIENT, when);
    case verify_purpose::client_or_server_auth: {
      auto err = verify_once(leaf, untrusted.get(), store.get(),
                             X509_PURPOSE_SSL_CLIENT, when);
      if (!err)
        return err;
      return verify_once(leaf, untrusted.get(), store.get(),
                         X509_PURPOSE_SSL_SERVER, when);
    }
  }
  return invalid("unknown verification purpose");
}

} // namespace istio_csr::pki
