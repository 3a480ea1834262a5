#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "caf/actor.hpp"
#include "caf/error.hpp"
#include "caf/fwd.hpp"
#include "caf/timespan.hpp"

namespace istio_csr::health {
class server;
} // namespace istio_csr::health

namespace istio_csr::debug {

/// Where the debug endpoint listens (`--debug-address`).
struct settings {
  /// An IP literal; loopback unless the operator says otherwise.
  std::string address = "127.0.0.1";
  /// 0 picks an ephemeral port.
  std::uint16_t port = 0;
  /// How long one look at the actor tree may take (`query_tree`).
  caf::timespan query_budget = std::chrono::seconds{2};
  /// Chaos mode's monkey, if it runs (`POST /debug/chaos/stop`).
  caf::actor chaos;
};

/// The debug endpoint: an operator's window into the actor tree, a
/// debugging and chaos-testing aid (docs/debugging.md). Plain HTTP/1.1 on
/// the bounded server of health/ (its own I/O thread; at most 16
/// connections, 8 KiB of headers, request and idle timeouts); the actors
/// are asked by short-lived actors of `sys`, so a request never blocks the
/// I/O thread or an actor.
/// - `GET /debug/actors`: 200 and the tree below `root` as JSON
///   (`to_json`); 503 if the root supervisor does not answer.
/// - `POST /debug/actors/<path>/kill`: kills the actor at `<path>`
///   (`root/csr-signer-0`, `root/leader-election/leader/namespace-watcher/
///   configmap/configmap/default`) as a crash would (`kill_node`, reason
///   `supervisor_errc::killed` "debug endpoint"), logged at warn: 200
///   `{"killed": path, "incarnation": N}`; 403 for the root supervisor; 404
///   for a path that names no actor; 409 for an actor that is not running
///   (waiting for its restart).
/// - `POST /debug/chaos/stop`: ends chaos mode (a drill calms down before
///   it checks what survived): 200 `{"chaos": "stopped"}`, also when it
///   already was; 404 when chaos mode is off.
/// - Other methods on these paths: 405 with `Allow`; other paths: 404.
/// - Requests from browsers are refused (403): any with an `Origin` header
///   (a page's cross-site request) or whose `Host` is no IP address or
///   `localhost` (DNS rebinding), so a web page cannot reach it through a
///   browser on the same host.
/// Errors are JSON objects `{"error": "..."}`. There is no authentication:
/// bind it to loopback (the default) or a network only operators reach.
class server {
 public:
  server(caf::actor_system& sys, caf::actor root, settings s);
  ~server();

  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Binds and starts serving.
  caf::error start();

  /// The bound port (after `start`).
  std::uint16_t port() const noexcept;

  /// Closes the listener and every connection. Idempotent.
  void stop();

 private:
  std::unique_ptr<health::server> http_;
};

} // namespace istio_csr::debug
