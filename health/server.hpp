#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "caf/error.hpp"

namespace istio_csr::health {

/// A readiness check: nullopt when healthy, else the reason. Runs on the
/// health server's own thread for every probe, so it must be thread-safe
/// and must not block (read an atomic flag or a snapshot, never wait for
/// signing or the API server).
using check = std::function<std::optional<std::string>()>;

/// Where and how the probe server listens.
struct settings {
  /// Bind address; upstream binds 0.0.0.0.
  std::string address = "0.0.0.0";
  /// `--readiness-probe-port`; 0 picks an ephemeral port.
  std::uint16_t port = 6060;
  /// `--readiness-probe-path`.
  std::string path = "/readyz";
  /// A request (headers) not read within this time closes the connection.
  std::chrono::milliseconds request_timeout{std::chrono::seconds{10}};
  /// Connections beyond this many are closed at once.
  std::size_t max_connections = 64;
};

/// The readiness HTTP/1.1 server, answering like controller-runtime's
/// healthz handler (spec §7):
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

  /// Binds and starts serving.
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
