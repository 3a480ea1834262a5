#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "caf/error.hpp"
#include "caf/expected.hpp"

namespace istio_csr::csrctl {

/// The PEM bundle csrctl trusts for the agent's serving certificate, and
/// where it came from (for a line on stderr).
struct trust_bundle {
  std::string pem;
  std::string source;
};

/// Blocking access to the Kubernetes API for a command-line tool: each call
/// starts a request on the asynchronous client and waits for its completion.
/// A CLI is no actor, so waiting here is fine.
class kube_access {
 public:
  /// Connects with `--kubeconfig` (or KUBECONFIG, ~/.kube/config, in-cluster
  /// as kubectl does). Errors name the file and field.
  static caf::expected<std::unique_ptr<kube_access>>
  make(const std::string& kubeconfig);

  ~kube_access();

  kube_access(const kube_access&) = delete;
  kube_access& operator=(const kube_access&) = delete;

  /// Mints a service-account token through the TokenRequest API
  /// (`POST /api/v1/namespaces/NS/serviceaccounts/SA/token`) with one
  /// audience, bound to the pod `bound_pod` of `namespace_` unless empty.
  /// Never logged.
  caf::expected<std::string> mint_token(const std::string& namespace_,
                                        const std::string& service_account,
                                        const std::string& audience,
                                        std::chrono::seconds expiration,
                                        const std::string& bound_pod = {});

  /// Creates each service account of `names` in `namespace_` that does not
  /// exist yet (a few requests at a time). Errors name the first failure.
  caf::error ensure_service_accounts(const std::string& namespace_,
                                     const std::vector<std::string>& names);

  /// `mint_token` for each service account of `names` (unbound), a few
  /// requests at a time; the tokens in the order of `names`.
  caf::expected<std::vector<std::string>>
  mint_tokens(const std::string& namespace_,
              const std::vector<std::string>& names,
              const std::string& audience, std::chrono::seconds expiration);

  /// The mesh root the agent's serving certificate chains to, as a workload
  /// gets it: ConfigMap `istio-ca-root-cert` (key `root-cert.pem`) in
  /// `namespace_`. While that ConfigMap does not exist yet (the agent
  /// writes it once it leads), the root of the CA issuer
  /// `issuer_kind`/`issuer_name`: `ca.crt` (else `tls.crt`) of its
  /// `spec.ca.secretName` Secret, in `issuer_namespace` for an Issuer or in
  /// `cert-manager` for a ClusterIssuer.
  caf::expected<trust_bundle> mesh_root(const std::string& namespace_,
                                        const std::string& issuer_kind,
                                        const std::string& issuer_name,
                                        const std::string& issuer_namespace);

  struct impl;

 private:
  explicit kube_access(std::unique_ptr<impl> ptr);
  std::unique_ptr<impl> impl_;
};

} // namespace istio_csr::csrctl
