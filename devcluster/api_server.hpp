#pragma once

#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "devcluster/crypto.hpp"
#include "devcluster/http_types.hpp"

namespace boost::asio {
class io_context;
} // namespace boost::asio

namespace istio_csr::devcluster {

class object_store;
class fault_injector;
class resource_registry;
struct resource_type;

/// Settings of the API layer.
struct api_config {
  /// Bearer token of the admin user (full access).
  std::string admin_token;
  /// host:port clients reach the server at (discovery).
  std::string server_address;
  /// Writes kept for watch resumption and consistent paging.
  size_t history_limit = 10000;
  /// Service-account token issuer (`iss`) and the API server's audiences.
  std::string issuer = "https://kubernetes.default.svc.cluster.local";
  std::vector<std::string> api_audiences;
  /// Delay before a Terminating namespace's content is removed.
  std::chrono::milliseconds namespace_finalize_delay{50};
  /// PEM published as `kube-root-ca.crt` in every namespace.
  std::string cluster_ca_pem;
};

struct api_impl;

/// The Kubernetes API semantics of devcluster: routing, authentication,
/// objects, watches, tokens, discovery, faults. Every call happens on the
/// thread running the io_context.
class api_server {
 public:
  /// `sa_key` (the service-account signing key) may still be being
  /// generated: requests that need it wait for it, others do not.
  api_server(boost::asio::io_context& ioc, api_config cfg,
             std::future<key_pair> sa_key);
  ~api_server();
  api_server(const api_server&) = delete;
  api_server& operator=(const api_server&) = delete;

  /// Answers one request; `done` is called exactly once (maybe later, e.g.
  /// with injected latency).
  void handle(http_request req, std::function<void(api_result)> done);

  /// Creates an object as the admin would (start-up state); throws
  /// std::runtime_error with the Status message on failure.
  void create(const std::string& resource_path, const nlohmann::json& body);

  /// Replaces the fault configuration; returns an error text on bad input.
  std::optional<std::string> configure_faults(const nlohmann::json& config);

  object_store& store();
  const resource_registry& registry() const;

 private:
  std::unique_ptr<api_impl> impl_;
};

} // namespace istio_csr::devcluster
