#pragma once

#include <memory>
#include <string>

namespace istio_csr::kube {
struct client_config;
} // namespace istio_csr::kube

namespace istio_csr::devcluster::issuer {

/// Running cert-manager controllers (CA and selfSigned Issuers and
/// ClusterIssuers, CertificateRequests, Certificates) talking to one API
/// server as an ordinary Kubernetes client. Stops on destruction.
class controllers {
 public:
  ~controllers();
  controllers(const controllers&) = delete;
  controllers& operator=(const controllers&) = delete;

  /// Implementation detail.
  struct impl;

  /// Implementation detail: use `start`.
  explicit controllers(std::unique_ptr<impl> ptr);

 private:
  std::unique_ptr<impl> impl_;
};

/// Starts the controllers against the cluster of `cfg`. Throws
/// std::runtime_error when the configuration is unusable.
std::unique_ptr<controllers> start(const kube::client_config& cfg);

/// Starts the controllers against the current context of a kubeconfig given
/// as YAML text (devcluster's admin kubeconfig). Throws std::runtime_error
/// when it is unusable.
std::unique_ptr<controllers> start(const std::string& kubeconfig_yaml);

/// `devcluster issuer --kubeconfig FILE`: runs the controllers until SIGTERM
/// or SIGINT; returns the process exit code.
int run(const std::string& kubeconfig_path);

} // namespace istio_csr::devcluster::issuer
