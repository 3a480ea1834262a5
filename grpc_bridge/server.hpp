#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "caf/error.hpp"

#include "grpc_bridge/tls/tls_server.hpp"
#include "grpc_bridge/tls/tls_settings.hpp"
#include "pki/certificate.hpp"
#include "pki/private_key.hpp"
#include "signing_api/sign_request.hpp"

namespace istio_csr::grpc_bridge {

/// Everything the gRPC endpoint needs besides credentials.
struct server_settings {
  /// Listener, threads, timeouts and connection limits of the TLS front.
  tls_server_settings transport;
  /// TLS parameters (versions, ciphers, curves, trust domain).
  tls_settings tls;
  /// `GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS`: pings closer
  /// than this count as strikes. istio-agent pings every 30 s and istiod
  /// allows 15 s; 10 s leaves margin for timer jitter.
  std::chrono::milliseconds min_recv_ping_interval{std::chrono::seconds{10}};
  /// `GRPC_ARG_HTTP2_MAX_PING_STRIKES` before GOAWAY too_many_pings.
  int max_ping_strikes = 2;
  /// Server-side keepalive pings (detect dead peers on idle connections).
  std::chrono::milliseconds keepalive_time{std::chrono::minutes{5}};
  std::chrono::milliseconds keepalive_timeout{std::chrono::seconds{20}};
  /// GOAWAY after this long without calls; clients reconnect on demand.
  std::chrono::milliseconds max_connection_idle{std::chrono::minutes{30}};
  /// The largest request message. A request is a CSR (an RSA-4096 CSR with
  /// a few SANs is under 4 KiB of PEM), a validity and, from ztunnel, the
  /// impersonated identity. 16 KiB keeps 4x margin and bounds what one
  /// stream can make grpc buffer (grpc's own default is 4 MiB).
  int max_receive_message_size = 16 * 1024;
  /// Responses carry the root bundle (upstream allows 330,000 bytes).
  int max_send_message_size = 4 * 1024 * 1024;
  /// `GRPC_ARG_MAX_CONCURRENT_STREAMS`: concurrent calls per connection, as
  /// advertised to clients. istio-agent makes one call at a time on its
  /// connection; ztunnel fetches up to 8 certificates at once. 32 leaves 4x
  /// room (and for calls a client gave up on whose streams are not cleaned
  /// up yet) while bounding what one connection keeps in flight (grpc's
  /// default is unlimited). grpc 1.51 does not hold clients to it; the TLS
  /// front does, at `transport.h2.max_open_streams` (which must not be
  /// smaller).
  int max_concurrent_streams = 32;
  /// `GRPC_ARG_MAX_METADATA_SIZE`: request metadata per call as HPACK
  /// counts it (each header's name and value plus 32 bytes), advertised as
  /// SETTINGS_MAX_HEADER_LIST_SIZE; beyond it grpc fails the call with
  /// RESOURCE_EXHAUSTED. Requests carry a bearer token (1-2 KiB) and a few
  /// short headers. grpc 1.51 has no hard variant of this limit and applies
  /// it to each HEADERS/CONTINUATION frame separately; the TLS front caps
  /// the whole encoded block at `transport.h2.max_header_block` (which must
  /// not be smaller) and frames at `transport.h2.max_frame_size`.
  int max_metadata_size = 16 * 1024;
  /// Calls in progress at once (`--max-concurrent-requests`); beyond it a
  /// call is answered RESOURCE_EXHAUSTED at once, which istio-agent and
  /// ztunnel retry.
  std::size_t max_active_calls = 2048;
};

/// The gRPC server of the signing path: TLS on Asio in front of an
/// in-process grpc++ server (no listening port of its own) that serves only
/// `istio.v1.auth.IstioCertificateService/CreateCertificate`. Each call
/// becomes a `signing_api::sign_request` for the handler, and its
/// `sign_result` the gRPC answer (`status.hpp`).
///
/// Thread-safe. Credentials can be set before or after `start`; until the
/// first serving certificate is set every connection is closed at once.
class server {
 public:
  server(server_settings settings,
         std::shared_ptr<signing_api::sign_handler> handler);

  /// Shuts down without drain time if still running.
  ~server();

  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Starts the grpc++ server, binds the listener and starts the I/O
  /// threads.
  caf::error start();

  /// The bound port (after `start`).
  std::uint16_t port() const noexcept;

  /// Replaces the serving chain (leaf first) and key. New handshakes use
  /// them; established connections are not affected.
  caf::error set_serving_certificate(std::vector<pki::certificate> chain,
                                     pki::private_key key);

  /// Replaces the mesh roots that verify client certificates (new
  /// handshakes only). Without roots, client certificates always fail.
  caf::error set_roots(std::vector<pki::certificate> roots);

  /// Both at once, in one new TLS context.
  caf::error set_credentials(std::vector<pki::certificate> chain,
                             pki::private_key key,
                             std::vector<pki::certificate> roots);

  /// Removes the TLS context: new connections fail (e.g. on shutdown).
  void clear_credentials();

  /// Readiness `tls_provider`: a serving certificate is set.
  bool has_tls_config() const;

  /// Readiness `grpc_server`: started and not shutting down.
  bool serving() const noexcept;

  /// The serving leaf new handshakes present (empty before any).
  std::optional<pki::certificate> serving_leaf() const;

  /// Graceful shutdown: stops accepting, sends GOAWAY, lets calls in flight
  /// finish for up to `drain`, cancels the rest, then closes everything.
  /// Blocks until done. Idempotent. Not from a handler or gRPC thread.
  void shutdown(std::chrono::milliseconds drain);

  tls_server_stats transport_stats() const;

  /// Calls that started and are not done yet.
  std::size_t active_calls() const;

  /// Connections known to gRPC (mapping entries).
  std::size_t registered_connections() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace istio_csr::grpc_bridge
