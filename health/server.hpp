#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "caf/error.hpp"

namespace istio_csr::health {

/// A readiness check: nullopt when healthy, else the reason. Runs on the
/// health server's own thread for every probe, so it must be thread-safe
/// and must not block (read an atomic flag or a snapshot, never wait for
/// signing or the API server).
using check = std::function<std::optional<std::string>()>;

/// A request as a `route` sees it (valid during the call only).
struct request {
  /// "GET", "POST", ...
  std::string_view method;
  /// The request target as sent: path and query.
  std::string_view target;
  /// The header fields, names as sent.
  std::vector<std::pair<std::string_view, std::string_view>> headers;

  /// The value of the first field named `name` (case-insensitive).
  std::optional<std::string_view> header(std::string_view name) const;
};

/// An answer of a `route`.
struct response {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  /// More header fields (e.g. `Allow` with a 405).
  std::vector<std::pair<std::string, std::string>> headers;
};

/// Delivers a route's answer. Callable from any thread; the first call
/// counts, later ones (and calls after the answer's deadline or after the
/// server stopped) do nothing.
using responder = std::function<void(response)>;

/// Serves every request instead of the readiness checks (the `/metrics`
/// endpoint and the debug endpoint reuse this server, its limits and
/// timeouts). Called on the server's I/O thread, so it must not block: it
/// answers through `reply`, at once or later from another thread (an
/// actor). A request not answered within `settings::request_timeout` gets
/// 503. The connection reads no further request until then.
using route = std::function<void(const request& req, responder reply)>;

/// Where and how the probe server listens.
struct settings {
  /// Bind address; upstream binds 0.0.0.0.
  std::string address = "0.0.0.0";
  /// `--readiness-probe-port`; 0 picks an ephemeral port.
  std::uint16_t port = 6060;
  /// `--readiness-probe-path`.
  std::string path = "/readyz";
  /// A connection that sends no byte of a request for this long (after
  /// accept, or after its previous response) is closed. kubelet sends its
  /// probe right after connecting.
  std::chrono::milliseconds first_bytes_timeout{std::chrono::seconds{3}};
  /// A request whose headers are not read this long after its first bytes
  /// closes the connection; a `route` that does not answer this long after
  /// the request was read makes it a 503.
  std::chrono::milliseconds request_timeout{std::chrono::seconds{10}};
  /// Open connections. At the limit a newcomer evicts the oldest connection
  /// that is waiting for a request, else the oldest one still reading its
  /// request; it is never refused, so idle or slow sockets cannot fail the
  /// probes (kubelet opens a fresh connection per probe).
  std::size_t max_connections = 64;
  /// When set, answers every request instead of the readiness checks.
  route handler;
};

/// The readiness HTTP/1.1 server, answering like controller-runtime's
/// healthz handler (docs/upstream.md §7):
/// - `GET <path>` (or `<path>/`): 200 `ok` when every check passes; 500 with
///   one line per check (`[+]name ok`, `[-]name failed: reason withheld`)
///   and `healthz check failed` otherwise; `?verbose` lists every check on
///   success too, ending `healthz check passed`; `?exclude=name` skips a
///   check. Checks are listed by name.
/// - `GET <path>/<name>`: 200 `ok`, or 500 `internal server error: <reason>`
///   (the reason is shown only here, as upstream); unknown names 404.
/// - with no checks registered, `<path>/ping` answers `ok`.
/// It runs on its own I/O thread, so probes never wait behind signing.
class server {
 public:
  explicit server(settings s);

  /// Stops the server.
  ~server();

  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Registers (or replaces) the check `name`. Thread-safe, any time.
  void add_check(std::string name, check fn);

  /// Binds `address`:`port` and starts serving.
  caf::error start();

  /// The bound port (after `start`).
  std::uint16_t port() const noexcept;

  /// Closes the listener and every connection, joins the thread.
  /// Idempotent.
  void stop();

  struct impl; // internal

 private:
  std::unique_ptr<impl> impl_;
};

} // namespace istio_csr::health
