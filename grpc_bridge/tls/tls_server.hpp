#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "caf/expected.hpp"

#include "grpc_bridge/tls/client_identity.hpp"

namespace istio_csr::grpc_bridge {

class tls_context;

/// What is known about one TLS connection once its handshake completed.
struct connection_info {
  /// Unique per process, never reused.
  std::uint64_t id = 0;
  /// The client's address, "ip:port" ("[v6]:port" for IPv6).
  std::string remote;
  /// Present when the client sent a certificate (which then passed
  /// verification: a bad one fails the handshake).
  std::optional<signing_api::client_cert_identity> client_cert;
};

/// The knobs of the TLS front.
struct tls_server_settings {
  /// `host:port` (`[v6]:port`); port 0 picks an ephemeral port.
  std::string address = "0.0.0.0:6443";
  /// I/O threads (Asio); connections do not get threads of their own.
  std::size_t threads = 2;
  /// A handshake not done by then is dropped.
  std::chrono::milliseconds handshake_timeout{std::chrono::seconds{10}};
  /// A connection without a byte in either direction for this long is
  /// closed. A backstop only: gRPC keepalive and idle settings normally
  /// close dead or idle connections politely first.
  std::chrono::milliseconds idle_timeout{std::chrono::minutes{15}};
  /// Connections beyond this many (handshaking or established) are closed
  /// right after accept.
  std::size_t max_connections = 20000;
  /// Concurrent handshakes beyond this many are closed right after accept:
  /// a handshake costs a signature with the serving key.
  std::size_t max_handshakes = 512;
};

/// Counters of the TLS front (monotonic, except `active`).
struct tls_server_stats {
  std::uint64_t accepted = 0;          ///< TCP connections accepted
  std::uint64_t rejected = 0;          ///< closed at once (limits, no TLS yet)
  std::uint64_t handshakes_ok = 0;     ///< handed to gRPC
  std::uint64_t handshakes_failed = 0; ///< failed or timed out
  std::uint64_t closed = 0;            ///< established connections closed
  std::uint64_t active = 0;            ///< open connections (any state)
  std::uint64_t bytes_in = 0;          ///< decrypted bytes from clients
  std::uint64_t bytes_out = 0;         ///< plaintext bytes sent to clients
};

/// The TLS terminator: accepts TCP connections, runs the TLS handshake with
/// the context current at accept time, then pumps the plaintext HTTP/2 byte
/// stream between the TLS stream and one end of a `socketpair`, whose other
/// end is handed to `on_ready` (for `grpc::AddInsecureChannelFromFd`).
///
/// Thread-safe. Callbacks run on I/O threads and must not block.
class tls_server {
 public:
  /// Receives the gRPC end of a new connection: a non-blocking, close-on-exec
  /// AF_UNIX stream socket. Ownership of `fd` passes to the callee.
  using ready_handler
    = std::function<void(int fd, std::shared_ptr<const connection_info>)>;

  /// Called once when a connection handed to `on_ready` ends, with the same
  /// `fd` number (possibly already closed by its owner) and info.
  using closed_handler = std::function<void(
    int fd, const std::shared_ptr<const connection_info>&)>;

  tls_server(tls_server_settings settings, ready_handler on_ready,
             closed_handler on_closed);

  /// Stops everything (like `stop()`).
  ~tls_server();

  tls_server(const tls_server&) = delete;
  tls_server& operator=(const tls_server&) = delete;

  /// Binds, listens and starts the I/O threads. Connections accepted while
  /// no context is set are closed at once.
  caf::error start();

  /// The bound port (after `start`).
  std::uint16_t port() const noexcept;

  /// Replaces the context used by new handshakes; in-flight connections keep
  /// theirs. Null makes new connections fail.
  void set_context(std::shared_ptr<const tls_context> ctx);

  /// The current context (may be null).
  std::shared_ptr<const tls_context> context() const;

  /// Whether the listener is open.
  bool listening() const noexcept;

  /// Closes the listener and every connection still handshaking; handshakes
  /// that complete later are dropped. Established connections stay open.
  /// Blocks until the listener is closed.
  void stop_accepting();

  /// Closes every connection and joins the I/O threads. Idempotent. Never
  /// call it from a callback (it would join its own thread).
  void stop();

  tls_server_stats stats() const;

  struct impl; // internal

 private:
  std::unique_ptr<impl> impl_;
};

} // namespace istio_csr::grpc_bridge
