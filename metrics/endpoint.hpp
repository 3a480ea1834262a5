#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "caf/error.hpp"

namespace istio_csr::health {
class server;
} // namespace istio_csr::health

namespace istio_csr::metrics {

/// Where `/metrics` listens.
struct endpoint_settings {
  /// Upstream binds every interface.
  std::string address = "0.0.0.0";
  /// `--metrics-port` (0 here picks an ephemeral port: the agent does not
  /// create an endpoint at all for `--metrics-port=0`).
  std::uint16_t port = 9402;
};

/// The Prometheus endpoint: `GET /metrics` (also `/metrics/`) answers
/// `scrape()` in the text format; every other path 404. Plain HTTP/1.1
/// on the bounded server of health/ (its own I/O thread, at most 64
/// connections, 8 KiB of headers, 4 KiB of body, request and idle
/// timeouts), so a slow or hostile scraper cannot hold the process.
class endpoint {
 public:
  explicit endpoint(endpoint_settings s);
  ~endpoint();

  endpoint(const endpoint&) = delete;
  endpoint& operator=(const endpoint&) = delete;

  /// Binds and starts serving.
  caf::error start();

  /// The bound port (after `start`).
  std::uint16_t port() const noexcept;

  /// Closes the listener and every connection. Idempotent.
  void stop();

 private:
  std::unique_ptr<health::server> server_;
};

} // namespace istio_csr::metrics
