#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace istio_csr::devcluster {

/// Settings of a devcluster (see `devcluster --help`).
struct server_options {
  /// host:port to listen on; port 0 picks a free one.
  std::string listen = "127.0.0.1:0";
  /// Where to write the admin kubeconfig ("" for none).
  std::string kubeconfig_out;
  /// Admin bearer token; random when empty.
  std::string admin_token;
  /// Writes kept for watch resumption and consistent paging.
  size_t history_size = 10000;
  /// Service-account token issuer and API audiences (default: the issuer).
  std::string issuer = "https://kubernetes.default.svc.cluster.local";
  std::vector<std::string> api_audiences;
  /// Delay before a Terminating namespace's content is removed.
  std::chrono::milliseconds namespace_finalize_delay{50};
  /// Initial fault configuration (JSON, see faults.hpp); "" for none.
  std::string faults;
  /// Create the start-up objects (namespaces, istio-ca Secret and Issuer).
  bool bootstrap = true;
  /// 0: quiet; 1: start-up and errors; 2: one line per request (method,
  /// target, status, duration; never credentials) on stderr.
  int verbosity = 1;
  /// Stop on SIGINT/SIGTERM while `run()` runs.
  bool handle_signals = false;
};

/// A devcluster: HTTPS Kubernetes API with in-memory state, on one thread.
///
///     server s{opts};
///     s.start();                       // binds, writes the kubeconfig
///     std::thread t{[&] { s.run(); }}; // or run() on this thread
///     ...
///     s.stop();
///     t.join();
class server {
 public:
  explicit server(server_options opts);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Generates the keys and certificates, binds, creates the start-up
  /// state and writes the kubeconfig. Throws std::exception on failure.
  void start();

  /// Serves until `stop()` (or a signal, with `handle_signals`).
  void run();

  /// Makes `run()` return; callable from any thread.
  void stop();

  /// "https://127.0.0.1:PORT".
  const std::string& url() const;
  uint16_t port() const;
  const std::string& admin_token() const;
  /// PEM of the CA that signed the serving certificate.
  const std::string& ca_pem() const;
  /// The kubeconfig text (also written to `kubeconfig_out`).
  const std::string& kubeconfig() const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace istio_csr::devcluster
