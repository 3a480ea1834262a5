#pragma once

// A tiny HTTPS/1.1 server for transport tests: one thread per connection,
// synchronous Beast, scripted by a handler. Real TLS on 127.0.0.1.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace istio_csr::test {

/// Certificates for the tests: a CA, a server certificate for 127.0.0.1,
/// localhost and kube.test, a client certificate (CN test-client), and an
/// unrelated CA.
struct test_pki {
  std::string ca_pem;
  std::string server_cert_pem;
  std::string server_key_pem;
  std::string client_cert_pem;
  std::string client_key_pem;
  std::string other_ca_pem;

  /// Made once per process (key generation is slow under ASan).
  static const test_pki& get();
};

/// One request as the server saw it.
struct request_info {
  std::string method;
  std::string target;
  std::string body;
  std::map<std::string, std::string> headers; ///< lower-case names
  std::vector<std::string> impersonate_groups;
  int connection_id = 0;
  std::string sni;
  std::string client_cn;

  std::string header(const std::string& name) const {
    auto i = headers.find(name);
    return i == headers.end() ? std::string{} : i->second;
  }
};

class https_test_server {
 public:
  /// The connection a handler answers on.
  class connection {
   public:
    virtual ~connection() = default;
    /// A complete response (JSON content type unless given).
    virtual void respond(int status, const std::string& body,
                         const std::map<std::string, std::string>& headers = {})
      = 0;
    /// Starts a chunked 200 response (or `status`).
    virtual void begin_chunked(int status = 200) = 0;
    /// Sends one chunk with exactly these bytes.
    virtual void chunk(const std::string& data) = 0;
    /// Sends the last chunk.
    virtual void end_chunked() = 0;
    /// Closes the TCP connection at once (after a partial response, or
    /// instead of one).
    virtual void drop() = 0;
  };

  using handler = std::function<void(const request_info&, connection&)>;

  https_test_server(handler h, bool request_client_cert = false);
  ~https_test_server();

  https_test_server(const https_test_server&) = delete;
  https_test_server& operator=(const https_test_server&) = delete;

  uint16_t port() const noexcept {
    return port_;
  }

  /// `https://127.0.0.1:PORT`.
  std::string url() const;

  /// Connections accepted so far.
  int connections() const noexcept {
    return accepted_;
  }

  /// Every request so far.
  std::vector<request_info> requests() const;

  /// Requests so far whose method is `method`.
  size_t count(const std::string& method) const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
  uint16_t port_ = 0;
  std::atomic<int> accepted_{0};
};

} // namespace istio_csr::test
