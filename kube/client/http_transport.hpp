#pragma once

// Internal to kube/client: HTTP/1.1 over TLS with a keep-alive pool. Included
// by the client implementation only; Beast stays inside http_transport.cpp.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>

#include "caf/expected.hpp"

namespace istio_csr::kube::detail {

/// Where and how to connect.
struct transport_settings {
  std::string host; ///< name or IP literal (no brackets)
  std::string port;
  /// SNI and certificate verification name (defaults to `host`).
  std::string server_name;
  std::string ca_pem;
  bool insecure_skip_tls_verify = false;
  std::string client_cert_pem;
  std::string client_key_pem;
  /// Connections for ordinary requests (watches have their own, unbounded).
  size_t max_connections = 64;
  /// Idle keep-alive connections kept for reuse.
  size_t max_idle = 16;
  /// Idle connections older than this are closed instead of reused.
  std::chrono::seconds idle_timeout{60};
  std::chrono::milliseconds connect_timeout{30000};
};

struct http_request {
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string content_type;
  std::string body;
};

struct http_response {
  int status = 0;
  std::string body;
  /// `Retry-After` in seconds, when present and numeric.
  std::optional<std::chrono::seconds> retry_after;
};

/// The outcome of one exchange.
struct exchange_result {
  /// Set on transport failure (connection, TLS, timeout, framing).
  caf::error err;
  /// Whether the request may have reached the server (false only when the
  /// failure happened before writing started).
  bool request_sent = false;
  http_response response;
};

/// Callbacks of a streamed response (watches).
struct stream_callbacks {
  /// The status line and headers arrived.
  std::function<void(int status,
                     std::optional<std::chrono::seconds> retry_after)>
    on_headers;
  /// Body bytes (chunked framing removed), as they arrive.
  std::function<void(const char* data, size_t size)> on_data;
  /// The stream ended: no error for a complete body, else why.
  /// `request_sent` as in `exchange_result`.
  std::function<void(caf::error err, bool request_sent)> on_end;
};

/// A running stream; `cancel` closes its connection (must be called on the
/// transport's executor). No callback runs after `cancel`.
class stream_handle {
 public:
  virtual ~stream_handle();
  virtual void cancel() = 0;
};

/// Counters for tests and logs.
struct transport_stats {
  uint64_t connections_opened = 0;
  uint64_t exchanges = 0;
  uint64_t reused = 0;
};

/// HTTP/1.1 over TLS to one server. Every member function must be called on
/// `executor` (a strand or a single-threaded io_context), and every callback
/// runs there.
class http_transport {
 public:
  virtual ~http_transport();

  /// Builds the TLS context (errors: `errc::config_error` for an unusable
  /// CA, certificate or key).
  static caf::expected<std::shared_ptr<http_transport>>
  make(boost::asio::any_io_executor executor, transport_settings settings);

  /// One request and its complete response, on a pooled keep-alive
  /// connection. `deadline` bounds the whole exchange (max(): none).
  virtual void exchange(http_request req,
                        std::chrono::steady_clock::time_point deadline,
                        std::function<void(exchange_result)> done)
    = 0;

  /// A request whose response body is streamed, on its own connection.
  /// `idle_timeout` bounds the wait for each piece of data (zero: none).
  virtual std::shared_ptr<stream_handle>
  stream(http_request req, std::chrono::milliseconds idle_timeout,
         stream_callbacks callbacks)
    = 0;

  /// Closes every connection; pending exchanges fail with `cancelled`.
  virtual void shutdown() = 0;

  virtual transport_stats stats() const = 0;
};

} // namespace istio_csr::kube::detail
