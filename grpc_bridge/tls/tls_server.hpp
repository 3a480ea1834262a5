#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "caf/expected.hpp"

#include "grpc_bridge/tls/client_identity.hpp"
#include "grpc_bridge/tls/h2_inspector.hpp"

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

/// The knobs of the TLS front. Every limit keeps a connection's cost
/// bounded before the client has proven anything (no TLS, no token yet).
struct tls_server_settings {
  /// `host:port` (`[v6]:port`); port 0 picks an ephemeral port.
  std::string address = "0.0.0.0:6443";
  /// I/O threads (Asio); connections do not get threads of their own.
  std::size_t threads = 2;
  /// A connection that sends no byte for this long after it was accepted is
  /// closed. Clients send their ClientHello right after connecting; 5 s
  /// allows two TCP retransmissions of a lost one. Until its first bytes a
  /// connection holds no handshake slot, so idle sockets cost no slot.
  std::chrono::milliseconds first_bytes_timeout{std::chrono::seconds{5}};
  /// From a connection's first bytes to the end of its TLS handshake,
  /// including any wait for a handshake slot; then it is dropped.
  std::chrono::milliseconds handshake_timeout{std::chrono::seconds{10}};
  /// Once established, how long a client has to send what it started: its
  /// HTTP/2 connection preface and first SETTINGS (from the end of the
  /// handshake), and each request (from the HEADERS that opened its stream
  /// to the END_STREAM that ends its message). A connection that overruns
  /// it gets a GOAWAY ENHANCE_YOUR_CALM and is closed, so that streams that
  /// never send their request hold neither a connection nor grpc's memory.
  /// Clients send a request (a few KiB) at once; upstream (grpc-go) waits
  /// for the preface up to 120 s and for a request forever
  /// (`--request-read-timeout`).
  std::chrono::milliseconds request_read_timeout{std::chrono::seconds{10}};
  /// A connection without a byte in either direction for this long is
  /// closed. A backstop only: gRPC keepalive and idle settings normally
  /// close dead or idle connections politely first.
  std::chrono::milliseconds idle_timeout{std::chrono::minutes{15}};
  /// Open connections (any state). At the limit a newcomer evicts the oldest
  /// connection that has not sent a byte yet; it is refused (closed right
  /// after accept) only when there is none.
  std::size_t max_connections = 20000;
  /// Concurrent TLS handshakes: each costs a signature with the serving key.
  /// A connection whose first bytes arrive while all are busy waits for one
  /// (within its `handshake_timeout`), in arrival order.
  std::size_t max_handshakes = 512;
  /// Connections not established yet (silent, waiting or handshaking) per
  /// source address. A newcomer beyond it evicts that address's oldest
  /// silent one (else its oldest waiting, else its oldest handshaking one),
  /// so a flood from one address only hurts that address, and not even its
  /// real clients, which send at once and handshake in milliseconds. Pods
  /// have addresses of their own; 64 leaves room for a node's pods behind
  /// one SNAT address reconnecting together. At least 1.
  std::size_t max_pending_per_source = 64;
  /// What clients may send over HTTP/2 (see `h2_limits`).
  h2_limits h2;
  /// After a client violated `h2`: how long to wait for grpc to finish the
  /// frame it is sending, write our GOAWAY and give the client time to read
  /// it. The connection is closed by then in any case.
  std::chrono::milliseconds goaway_timeout{std::chrono::seconds{1}};
  /// After that GOAWAY: client bytes read and dropped undecrypted before the
  /// close, so that closing with unread bytes (a TCP reset) does not destroy
  /// the GOAWAY before the client read it.
  std::size_t goaway_drain_bytes = 256 * 1024;
};

/// Counters of the TLS front: monotonic, except the current numbers
/// `active`, `silent`, `waiting` and `handshaking`.
struct tls_server_stats {
  std::uint64_t accepted = 0;          ///< TCP connections accepted
  std::uint64_t rejected = 0;          ///< closed at once (limits, no TLS yet)
  std::uint64_t evicted = 0;           ///< closed to make room for a newcomer
  std::uint64_t silent_timeouts = 0;   ///< closed without a byte received
  std::uint64_t handshakes_ok = 0;     ///< handed to gRPC
  std::uint64_t handshakes_failed = 0; ///< failed or timed out
  std::uint64_t h2_violations = 0;     ///< closed with a GOAWAY of ours
  std::uint64_t request_timeouts = 0;  ///< of those, `request_read_timeout`
  std::uint64_t closed = 0;            ///< established connections closed
  std::uint64_t active = 0;            ///< open connections (any state)
  std::uint64_t silent = 0;            ///< open, no byte received yet
  std::uint64_t waiting = 0;           ///< open, waiting for a handshake slot
  std::uint64_t handshaking = 0;       ///< open, holding a handshake slot
  std::uint64_t bytes_in = 0;          ///< decrypted bytes from clients
  std::uint64_t bytes_out = 0;         ///< plaintext bytes sent to clients
};

/// The TLS terminator: accepts TCP connections, runs the TLS handshake with
/// the context current at accept time, then pumps the plaintext HTTP/2 byte
/// stream between the TLS stream and one end of a `socketpair`, whose other
/// end is handed to `on_ready` (for `grpc::AddInsecureChannelFromFd`).
/// Client bytes pass an `h2_inspector` on their way; on a violation the
/// client gets a GOAWAY between two of grpc's frames and is disconnected.
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

  /// Closes the listener and every connection not established yet;
  /// handshakes that complete later are dropped. Established connections
  /// stay open.
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
