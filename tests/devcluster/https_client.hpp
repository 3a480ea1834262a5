#pragma once

// A small blocking HTTPS client for devcluster's tests: exact status codes,
// headers and bodies, and watch streams read event by event. Works against
// devcluster and against a real cluster (kubeconfig with a token or a client
// certificate).

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace istio_csr::test {

class test_cluster;

/// How to reach and authenticate to an API server.
struct kube_access {
  std::string server; ///< https://host:port
  std::string ca_pem;
  std::string token;
  std::string client_cert_pem;
  std::string client_key_pem;

  /// From the cluster's kubeconfig (`kubectl config view --raw --minify`).
  static kube_access of(const test_cluster& cluster);
};

/// A complete response.
struct http_result {
  int status = 0; ///< 0 when the request failed (see `error`)
  std::map<std::string, std::string> headers; ///< lower-case names
  std::string body;
  std::string error;

  /// The body as JSON (null if it is not JSON).
  nlohmann::json json() const;

  std::string header(const std::string& name) const;
};

/// A streaming response (a watch), read event by event.
class event_stream {
 public:
  virtual ~event_stream() = default;

  /// Status and headers of the response.
  virtual const http_result& head() const = 0;

  /// The next event (one JSON line), or nullopt on timeout or end.
  virtual std::optional<nlohmann::json> next(std::chrono::milliseconds timeout)
    = 0;

  /// Whether the server ended the response (terminating chunk) within
  /// `timeout`; events still unread are discarded.
  virtual bool wait_end(std::chrono::milliseconds timeout) = 0;

  /// Whether every chunk so far ended on an event boundary ('\n').
  virtual bool chunks_on_event_boundaries() const = 0;

  /// Number of chunks received so far.
  virtual size_t chunk_count() const = 0;
};

class https_client {
 public:
  explicit https_client(kube_access access);

  /// Uses `token` instead of the kubeconfig's credentials ("" for none).
  https_client with_token(const std::string& token) const;

  /// One request on a fresh connection.
  http_result request(const std::string& method, const std::string& target,
                      const std::string& body = {},
                      const std::string& content_type = "application/json",
                      const std::map<std::string, std::string>& headers = {},
                      std::chrono::milliseconds timeout
                      = std::chrono::seconds(30)) const;

  http_result get(const std::string& target) const {
    return request("GET", target);
  }

  http_result post(const std::string& target,
                   const nlohmann::json& body) const {
    return request("POST", target, body.dump());
  }

  http_result put(const std::string& target, const nlohmann::json& body) const {
    return request("PUT", target, body.dump());
  }

  http_result merge_patch(const std::string& target,
                          const nlohmann::json& body) const {
    return request("PATCH", target, body.dump(),
                   "application/merge-patch+json");
  }

  http_result del(const std::string& target,
                  const nlohmann::json& body = nullptr) const {
    return request("DELETE", target, body.is_null() ? "" : body.dump());
  }

  /// Opens a streaming GET (e.g. `...?watch=1`); nullptr if the connection
  /// fails.
  std::unique_ptr<event_stream>
  stream(const std::string& target,
         const std::map<std::string, std::string>& headers = {}) const;

  const kube_access& access() const noexcept {
    return access_;
  }

 private:
  kube_access access_;
};

/// The claims (payload) of a JWT; null if it does not decode.
nlohmann::json jwt_claims(const std::string& token);

/// The header of a JWT; null if it does not decode.
nlohmann::json jwt_header(const std::string& token);

/// A PEM PKCS#10 CSR for `dns` (a fresh ECDSA key), for CertificateRequests
/// that cert-manager's webhook accepts.
std::string make_csr_pem(const std::string& dns);

} // namespace istio_csr::test
