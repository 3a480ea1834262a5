#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "caf/expected.hpp"

#include "kube/client/config.hpp"
#include "kube/client/request.hpp"
#include "kube/client/resource.hpp"
#include "kube/client/retry_policy.hpp"
#include "kube/client/watch_event.hpp"

namespace boost::asio {
class io_context;
} // namespace boost::asio

namespace istio_csr::kube {

/// Completion of a request: the decoded answer (the object, the list, the
/// delete `Status`) or a `kube::errc` error.
using result_handler = std::function<void(caf::expected<nlohmann::json>)>;

/// Receives each event of a watch. ERROR events never arrive here: they end
/// the watch (see `watch_done_handler`).
using watch_event_handler = std::function<void(watch_event&&)>;

/// The end of a watch: no error when the server closed the stream (e.g. at
/// `timeoutSeconds`), `errc::gone` for a too-old resourceVersion (an ERROR
/// event with code 410, or HTTP 410), or another `kube::errc` error. Not
/// called after `watch::cancel`.
using watch_done_handler = std::function<void(caf::error)>;

/// Tuning of a client beyond its `client_config`.
struct client_options {
  retry_policy retry;
  /// Connections for ordinary requests (each watch has its own).
  size_t max_connections = 64;
  /// Idle keep-alive connections kept for reuse.
  size_t max_idle_connections = 16;
  std::chrono::milliseconds connect_timeout{30000};
  /// A watch without `timeoutSeconds` that receives nothing for this long
  /// is considered dead (zero: never; TCP keep-alive still detects dead
  /// peers). With `timeoutSeconds` the limit is that plus 30 s.
  std::chrono::milliseconds watch_idle_timeout{0};
  std::string user_agent = "istio-csr";
  /// Run on this io_context instead of an own thread. The client then uses
  /// a strand of it; the caller runs it and keeps it alive.
  boost::asio::io_context* io_context = nullptr;
};

/// A running watch.
class watch_handle {
 public:
  virtual ~watch_handle();

  /// Stops the watch. Called on the client's thread (inside a callback), no
  /// callback of this watch runs afterwards; from another thread, callbacks
  /// already running may finish.
  virtual void cancel() = 0;
};

/// Counters, for tests and diagnostics.
struct client_stats {
  uint64_t requests = 0;  ///< attempts sent (retries included)
  uint64_t retries = 0;   ///< attempts after the first
  uint64_t throttled = 0; ///< attempts delayed by the rate limiter
  /// Requests completed unsent because their requester cancelled them
  /// (`request::cancel`).
  uint64_t cancelled = 0;
  uint64_t connections_opened = 0;
  uint64_t connections_reused = 0;
  uint64_t watches_started = 0;
};

/// The asynchronous Kubernetes API client: HTTP/1.1 keep-alive over TLS
/// (Boost.Beast), on its own Asio thread (or a strand of a given
/// io_context). Every function returns at once and may be called from any
/// thread; completions run on the client's thread and must not block. For
/// actors, see `client_actor.hpp`.
///
/// Requests go through a client-side token bucket (`qps`, `burst`) that
/// delays and never fails, and are retried by `client_options::retry`. A
/// request whose `request::cancel` is stopped before an attempt is not sent
/// (`errc::cancelled`, counted in `client_stats::cancelled`).
/// Bearer tokens from a token file are re-read when the file changes.
class client : public std::enable_shared_from_this<client> {
 public:
  /// Creates a client; fails (`errc::config_error`) on an unusable server
  /// URL, CA, certificate or key.
  static caf::expected<std::shared_ptr<client>> make(client_config cfg,
                                                     client_options opts = {});

  /// Stops the client: open requests complete with `errc::cancelled`, watches
  /// end silently; with an own thread, waits for it.
  ~client();

  client(const client&) = delete;
  client& operator=(const client&) = delete;

  /// Runs any request. For `verb::watch` use `watch` instead.
  void execute(request req, result_handler done);

  /// Starts a watch (`list_options::resource_version`, bookmarks,
  /// `timeoutSeconds`); events are decoded as bytes arrive.
  std::shared_ptr<watch_handle> watch(request req, watch_event_handler on_event,
                                      watch_done_handler on_done);

  // -- convenience
  // -------------------------------------------------------------

  void get(const resource& res, std::string namespace_, std::string name,
           result_handler done) {
    execute(request::get(res, std::move(namespace_), std::move(name)),
            std::move(done));
  }

  void list(const resource& res, std::string namespace_, list_options opts,
            result_handler done) {
    execute(request::list_of(res, std::move(namespace_), std::move(opts)),
            std::move(done));
  }

  /// Lists every page (`opts.limit` per page, default 500).
  void list_all(const resource& res, std::string namespace_, list_options opts,
                result_handler done) {
    execute(request::list_all(res, std::move(namespace_), std::move(opts)),
            std::move(done));
  }

  void create(const resource& res, nlohmann::json object, result_handler done) {
    execute(request::create(res, {}, std::move(object)), std::move(done));
  }

  void update(const resource& res, nlohmann::json object, result_handler done) {
    execute(request::update(res, std::move(object)), std::move(done));
  }

  void update_status(const resource& res, nlohmann::json object,
                     result_handler done) {
    execute(request::update_status(res, std::move(object)), std::move(done));
  }

  void merge_patch(const resource& res, std::string namespace_,
                   std::string name, nlohmann::json patch,
                   result_handler done) {
    execute(request::merge_patch(res, std::move(namespace_), std::move(name),
                                 std::move(patch)),
            std::move(done));
  }

  void remove(const resource& res, std::string namespace_, std::string name,
              delete_options opts, result_handler done) {
    execute(request::remove(res, std::move(namespace_), std::move(name),
                            std::move(opts)),
            std::move(done));
  }

  // -- scheduling on the client's thread --------------------------------------

  /// Runs `fn` on the client's thread.
  void post(std::function<void()> fn);

  /// Runs `fn` on the client's thread after `delay` (not at all if the
  /// client stops first).
  void schedule(std::chrono::milliseconds delay, std::function<void()> fn);

  // -- properties
  // --------------------------------------------------------------

  /// The server URL.
  const std::string& server() const noexcept;

  client_stats stats() const;

  /// Implementation detail.
  struct impl;

 private:
  explicit client(std::shared_ptr<impl> ptr);
  std::shared_ptr<impl> impl_;
};

} // namespace istio_csr::kube
