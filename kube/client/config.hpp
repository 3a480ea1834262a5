#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "caf/expected.hpp"

#include "config/kube_client_flags.hpp"

namespace istio_csr::kube {

/// Everything the client needs to talk to one API server, resolved from a
/// kubeconfig or the in-cluster service account. Certificates and keys are
/// held in memory (PEM); only the token file is read again later (projected
/// tokens rotate).
struct client_config {
  /// Base URL, `https://host[:port][/path-prefix]`.
  std::string server;
  /// Overrides the name used for SNI and for verifying the server
  /// certificate (`tls-server-name`).
  std::string tls_server_name;
  /// Trusted CA certificates (PEM). Empty: the system trust store.
  std::string ca_pem;
  bool insecure_skip_tls_verify = false;
  /// Client certificate chain and key (PEM), for certificate auth.
  std::string client_cert_pem;
  std::string client_key_pem;
  /// A static bearer token.
  std::string token;
  /// A bearer token file, re-read whenever it changes (takes precedence
  /// over `token`).
  std::string token_file;
  /// Impersonation headers (`Impersonate-User`, ...).
  std::string impersonate_user;
  std::string impersonate_uid;
  std::vector<std::string> impersonate_groups;
  std::map<std::string, std::vector<std::string>> impersonate_extra;
  /// The default namespace: the context's namespace, or the in-cluster
  /// namespace file. Empty when unknown.
  std::string namespace_;
  /// Deadline of each non-watch request (all attempts); zero: none.
  std::chrono::milliseconds request_timeout{0};
  /// Client-side rate limiter (token bucket).
  double qps = 500.0;
  int burst = 1000;
  bool disable_rate_limiter = false;
  /// Where this came from, for logs: e.g. `in-cluster` or
  /// `kubeconfig /x/config, context kind`. Never contains credentials.
  std::string source;
};

/// What configuration loading reads from the process environment, so that
/// tests can inject it.
struct config_environment {
  /// Looks up an environment variable.
  std::function<std::optional<std::string>(const std::string&)> getenv;
  /// Directory with `token`, `ca.crt` and `namespace`.
  std::string service_account_dir
    = "/var/run/secrets/kubernetes.io/serviceaccount";
  /// The process environment.
  static config_environment system();
};

/// The in-cluster configuration: `https://$KUBERNETES_SERVICE_HOST:
/// $KUBERNETES_SERVICE_PORT`, the service-account token file (re-read when it
/// rotates), `ca.crt` and `namespace`. Fails with `errc::config_error` when
/// not running in a cluster or the token is unreadable.
caf::expected<client_config> in_cluster_config(const config_environment& env);

/// Resolves the client flags as kubectl does: `--kubeconfig`, else
/// `KUBECONFIG` (colon-separated, merged, first wins), else
/// `~/.kube/config`; then `--context`/`--cluster`/`--user` and the other
/// overrides. With no kubeconfig file and no `--server`, the in-cluster
/// configuration is used (with the overrides that apply to it). Errors name
/// the file and the field.
caf::expected<client_config> load_config(const config::kube_client_flags& flags,
                                         const config_environment& env
                                         = config_environment::system());

} // namespace istio_csr::kube
