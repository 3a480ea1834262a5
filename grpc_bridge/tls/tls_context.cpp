#include "grpc_bridge/tls/tls_context.hpp"

#include <cstring>

#include <boost/asio/ssl/context.hpp>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "caf/sec.hpp"

#include "grpc_bridge/tls/client_identity.hpp"

namespace istio_csr::grpc_bridge {

struct tls_context::impl {
  boost::asio::ssl::context ctx;
  pki::certificate leaf;
  std::string trust_domain;

  impl(SSL_CTX* native, pki::certificate leaf_cert, std::string td)
    : ctx(native), leaf(std::move(leaf_cert)), trust_domain(std::move(td)) {}
};

namespace {

caf::error failure(std::string text) {
  ERR_clear_error();
  return caf::make_error(caf::sec::runtime_error, std::move(text));
}

std::string join(const std::vector<std::string>& xs) {
  std::string result;
  for (const auto& x : xs) {
    if (!result.empty())
      result += ':';
    result += x;
  }
  return result;
}

// Replaces OpenSSL's chain verification for client certificates: the usual
// verification (roots, purpose "sslclient" = clientAuth or no EKU), then
// istio's SPIFFE rules on the leaf.
int verify_client_chain(X509_STORE_CTX* store_ctx, void* arg) {
  auto* self = static_cast<tls_context::impl*>(arg);
  if (X509_verify_cert(store_ctx) <= 0)
    return 0;
  X509* leaf = X509_STORE_CTX_get0_cert(store_ctx);
  if (leaf == nullptr || X509_up_ref(leaf) != 1) {
    X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_UNSPECIFIED);
    return 0;
  }
  auto cert = pki::certificate::adopt(pki::x509_ptr{leaf});
  if (!check_client_leaf(cert, self->trust_domain)) {
    X509_STORE_CTX_set_error(store_ctx, X509_V_ERR_APPLICATION_VERIFICATION);
    return 0;
  }
  return 1;
}

int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen,
                const unsigned char* in, unsigned int inlen, void*) {
  static const unsigned char h2[] = {2, 'h', '2'};
  unsigned char* selected = nullptr;
  unsigned char selected_len = 0;
  if (SSL_select_next_proto(&selected, &selected_len, h2, sizeof(h2), in, inlen)
      != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_ALERT_FATAL; // no_application_protocol
  *out = selected;
  *outlen = selected_len;
  return SSL_TLSEXT_ERR_OK;
}

// A ClientHello without ALPN cannot be gRPC: refuse it during the handshake
// rather than accepting a connection grpc would drop.
int require_alpn(SSL* ssl, int* alert, void*) {
  const unsigned char* data = nullptr;
  size_t len = 0;
  if (SSL_client_hello_get0_ext(
        ssl, TLSEXT_TYPE_application_layer_protocol_negotiation, &data, &len)
      != 1) {
    *alert = SSL_AD_NO_APPLICATION_PROTOCOL;
    return SSL_CLIENT_HELLO_ERROR;
  }
  return SSL_CLIENT_HELLO_SUCCESS;
}

} // namespace

tls_context::tls_context(std::unique_ptr<impl> ptr) : impl_(std::move(ptr)) {}

tls_context::~tls_context() = default;

const pki::certificate& tls_context::leaf() const noexcept {
  return impl_->leaf;
}

const std::string& tls_context::trust_domain() const noexcept {
  return impl_->trust_domain;
}

boost::asio::ssl::context& tls_context::asio_context() const noexcept {
  return impl_->ctx;
}

caf::expected<std::shared_ptr<const tls_context>> tls_context::make(
  const tls_settings& settings, const std::vector<pki::certificate>& chain,
  const pki::private_key& key, const std::vector<pki::certificate>& roots) {
  if (chain.empty())
    return caf::make_error(caf::sec::invalid_argument,
                           "the serving certificate chain is empty");
  if (!chain.front().matches(key))
    return caf::make_error(caf::sec::invalid_argument,
                           "the serving key does not match the certificate");
  SSL_CTX* native = SSL_CTX_new(TLS_server_method());
  if (native == nullptr)
    return failure("SSL_CTX_new failed");
  // From here on the Asio context owns (and frees) the SSL_CTX.
  auto state
    = std::make_unique<impl>(native, chain.front(), settings.trust_domain);
  SSL_CTX* ctx = state->ctx.native_handle();
  auto min = settings.min_version == tls_version::v1_3 ? TLS1_3_VERSION
                                                       : TLS1_2_VERSION;
  if (SSL_CTX_set_min_proto_version(ctx, min) != 1
      || SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1)
    return failure("cannot set the TLS versions");
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION
                             | SSL_OP_CIPHER_SERVER_PREFERENCE
                             | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_num_tickets(ctx, 0);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  // Idle connections keep no record buffers.
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  const auto& ciphers = settings.cipher_suites.empty() ? default_cipher_suites()
                                                       : settings.cipher_suites;
  if (SSL_CTX_set_cipher_list(ctx, join(ciphers).c_str()) != 1)
    return failure("no usable TLS 1.2 cipher suite");
  const auto& curves
    = settings.curves.empty() ? default_curves() : settings.curves;
  if (SSL_CTX_set1_groups_list(ctx, join(curves).c_str()) != 1)
    return failure("no usable TLS curve");
  // Serving certificate, chain and key (OpenSSL takes its own references).
  if (SSL_CTX_use_certificate(ctx, chain.front().native()) != 1)
    return failure("cannot use the serving certificate");
  for (size_t i = 1; i < chain.size(); ++i)
    if (SSL_CTX_add1_chain_cert(ctx, chain[i].native()) != 1)
      return failure("cannot add a serving chain certificate");
  if (SSL_CTX_use_PrivateKey(ctx, key.native()) != 1
      || SSL_CTX_check_private_key(ctx) != 1)
    return failure("cannot use the serving key");
  // Client certificates: optional, verified against the roots if given.
  X509_STORE* store = X509_STORE_new();
  if (store == nullptr)
    return failure("X509_STORE_new failed");
  SSL_CTX_set_cert_store(ctx, store); // the context owns it now
  for (const auto& root : roots) {
    if (X509_STORE_add_cert(store, root.native()) != 1) {
      // The same root twice is fine (bundles may repeat certificates).
      auto err = ERR_peek_last_error();
      if (ERR_GET_REASON(err) != X509_R_CERT_ALREADY_IN_HASH_TABLE)
        return failure("cannot add a root certificate");
      ERR_clear_error();
    }
    // The CertificateRequest names the acceptable CAs, as Go does.
    if (SSL_CTX_add_client_CA(ctx, root.native()) != 1)
      return failure("cannot add a client CA name");
  }
  // Go treats every certificate of a root pool as a trust anchor, even one
  // that is not self-signed.
  X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  SSL_CTX_set_verify_depth(ctx, 10);
  SSL_CTX_set_cert_verify_callback(ctx, verify_client_chain, state.get());
  static const unsigned char sid_ctx[] = "istio-csr";
  SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1);
  SSL_CTX_set_alpn_select_cb(ctx, select_alpn, nullptr);
  SSL_CTX_set_client_hello_cb(ctx, require_alpn, nullptr);
  return std::shared_ptr<const tls_context>{new tls_context(std::move(state))};
}

} // namespace istio_csr::grpc_bridge
