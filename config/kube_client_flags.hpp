#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace istio_csr::config {

/// The Kubernetes client flags (docs/upstream.md §1.8, k8s cli-runtime
/// `ConfigFlags`) plus our rate-limiter flags, as given on the command line.
/// Empty strings mean "not given". Turning these into a connection
/// (kubeconfig, in-cluster) is the job of `kube/client`.
struct kube_client_flags {
  std::string kubeconfig;            ///< --kubeconfig
  std::string cache_dir;             ///< --cache-dir (accepted, unused)
  std::string certificate_authority; ///< --certificate-authority
  std::string client_certificate;    ///< --client-certificate
  std::string client_key;            ///< --client-key
  std::string token;                 ///< --token
  std::string as;                    ///< --as
  std::string as_uid;                ///< --as-uid
  std::vector<std::string> as_group; ///< --as-group (repeatable)
  std::vector<std::string> as_user_extra; ///< --as-user-extra (repeatable)
  std::string cluster;               ///< --cluster
  std::string user;                  ///< --user
  std::string context;               ///< --context
  std::string namespace_;            ///< -n/--namespace (accepted, unused)
  std::string server;                ///< -s/--server
  std::string tls_server_name;       ///< --tls-server-name
  bool insecure_skip_tls_verify = false; ///< --insecure-skip-tls-verify
  /// --request-timeout; zero means no timeout.
  std::chrono::milliseconds request_timeout{0};
  bool disable_compression = false;  ///< --disable-compression
  /// --kube-api-qps: sustained client-side request rate.
  double qps = 500.0;
  /// --kube-api-burst: token bucket size.
  int burst = 1000;
  /// --disable-kubernetes-client-rate-limiter: no client-side throttling.
  bool disable_rate_limiter = false;
};

} // namespace istio_csr::config
