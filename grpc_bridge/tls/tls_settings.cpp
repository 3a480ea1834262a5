#include "grpc_bridge/tls/tls_settings.hpp"

#include <memory>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "caf/sec.hpp"

namespace istio_csr::grpc_bridge {

namespace {

struct ctx_deleter {
  void operator()(SSL_CTX* ctx) const noexcept {
    SSL_CTX_free(ctx);
  }
};

caf::error invalid(std::string text) {
  return caf::make_error(caf::sec::invalid_argument, std::move(text));
}

} // namespace

const std::vector<std::string>& default_cipher_suites() {
  // Go's crypto/tls defaults for TLS 1.2 servers (RSA key exchange and 3DES
  // are no longer in Go's default list).
  static const std::vector<std::string> result{
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    "ECDHE-ECDSA-AES128-SHA",        "ECDHE-RSA-AES128-SHA",
    "ECDHE-ECDSA-AES256-SHA",        "ECDHE-RSA-AES256-SHA",
  };
  return result;
}

const std::vector<std::string>& default_curves() {
  static const std::vector<std::string> result{"X25519", "P-256", "P-384",
                                               "P-521"};
  return result;
}

namespace {

template <class F>
bool try_on_context(F f) {
  std::unique_ptr<SSL_CTX, ctx_deleter> ctx{SSL_CTX_new(TLS_server_method())};
  bool ok = ctx && f(ctx.get());
  ERR_clear_error();
  return ok;
}

bool single_name(const std::string& name) {
  return !name.empty() && name.find_first_of(":, ") == std::string::npos;
}

} // namespace

bool cipher_available(const std::string& openssl_name) {
  return single_name(openssl_name) && try_on_context([&](SSL_CTX* ctx) {
           return SSL_CTX_set_cipher_list(ctx, openssl_name.c_str()) == 1;
         });
}

bool curve_available(const std::string& openssl_name) {
  return single_name(openssl_name) && try_on_context([&](SSL_CTX* ctx) {
           return SSL_CTX_set1_groups_list(ctx, openssl_name.c_str()) == 1;
         });
}

caf::error validate(const tls_settings& settings) {
  if (settings.trust_domain.empty())
    return invalid("the trust domain is empty");
  std::unique_ptr<SSL_CTX, ctx_deleter> ctx{SSL_CTX_new(TLS_server_method())};
  if (!ctx)
    return caf::make_error(caf::sec::runtime_error, "SSL_CTX_new failed");
  for (const auto& name : settings.cipher_suites) {
    // A list with one unknown name fails; OpenSSL would silently skip it in
    // a longer list, so each name is checked on its own.
    if (name.empty() || name.find_first_of(":, ") != std::string::npos
        || SSL_CTX_set_cipher_list(ctx.get(), name.c_str()) != 1) {
      ERR_clear_error();
      return invalid("unknown TLS 1.2 cipher suite: " + name);
    }
  }
  for (const auto& name : settings.curves) {
    if (name.empty() || name.find_first_of(":, ") != std::string::npos
        || SSL_CTX_set1_groups_list(ctx.get(), name.c_str()) != 1) {
      ERR_clear_error();
      return invalid("unknown TLS curve: " + name);
    }
  }
  ERR_clear_error();
  return {};
}

} // namespace istio_csr::grpc_bridge
