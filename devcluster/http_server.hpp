#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "devcluster/http_types.hpp"

namespace boost::asio {
class io_context;
} // namespace boost::asio

namespace istio_csr::devcluster {

/// HTTPS/1.1 server on Beast: keep-alive connections, complete responses
/// and chunked streams. Runs on the thread(s) of the io_context it is given;
/// devcluster uses exactly one.
class http_server {
 public:
  using handler
    = std::function<void(http_request, std::function<void(api_result)>)>;

  /// `cert_pem` is the serving chain, `key_pem` its private key.
  http_server(boost::asio::io_context& ioc, const std::string& cert_pem,
              const std::string& key_pem, handler h);
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// Binds and starts accepting; returns the bound port. Throws
  /// std::system_error when it cannot bind.
  uint16_t listen(const std::string& host, uint16_t port);

  /// Stops accepting and closes every connection.
  void stop();

 private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

} // namespace istio_csr::devcluster
