#pragma once

#include <memory>
#include <string>
#include <vector>

#include "caf/expected.hpp"

#include "grpc_bridge/tls/tls_settings.hpp"
#include "pki/certificate.hpp"
#include "pki/private_key.hpp"

namespace boost::asio::ssl {
class context;
} // namespace boost::asio::ssl

namespace istio_csr::grpc_bridge {

/// One immutable server-side TLS configuration: serving chain and key, the
/// mesh roots for client certificates, and the settings. A new one is built
/// whenever any of them changes; connections keep the one they started with
/// (shared ownership), so a swap affects new handshakes only.
///
/// What every handshake gets (docs/upstream.md §2.2):
/// - TLS >= max(min_version, 1.2); TLS 1.3 with its default AES-GCM suites;
///   the configured TLS 1.2 ciphers (server order) and groups;
/// - ALPN must select "h2": a ClientHello without ALPN, or without "h2" in
///   it, fails with a no_application_protocol alert (grpc-go servers reject
///   such clients too; grpc-go and tonic always offer h2);
/// - no session tickets or session cache: every connection is verified;
/// - client certificates optional, verified if given: the chain must reach
///   one of the roots (a root may be an intermediate, as with Go's pools),
///   the leaf must allow clientAuth (or have no EKU) and pass
///   `check_client_leaf`. A bad client certificate fails the handshake.
class tls_context {
 public:
  /// Builds a context. `chain` is the serving leaf first, then any
  /// intermediates; `key` must match the leaf. `roots` may be empty, in
  /// which case every client certificate fails verification.
  static caf::expected<std::shared_ptr<const tls_context>>
  make(const tls_settings& settings, const std::vector<pki::certificate>& chain,
       const pki::private_key& key, const std::vector<pki::certificate>& roots);

  ~tls_context();
  tls_context(const tls_context&) = delete;
  tls_context& operator=(const tls_context&) = delete;

  /// The serving leaf.
  const pki::certificate& leaf() const noexcept;

  /// `tls_settings::trust_domain`.
  const std::string& trust_domain() const noexcept;

  /// The Asio wrapper of the SSL_CTX, for streams (internal use).
  boost::asio::ssl::context& asio_context() const noexcept;

  struct impl;

 private:
  explicit tls_context(std::unique_ptr<impl> ptr);
  std::unique_ptr<impl> impl_;
};

} // namespace istio_csr::grpc_bridge
