#pragma once

#include <chrono>
#include <string>

namespace istio_csr::csrctl {

/// Output formats of `csrctl request`.
enum class output_format {
  text, ///< subjects, SANs and validity of each element of the chain
  pem,  ///< the chain as PEM, leaf first (what istio-agent hands to Envoy)
};

/// Key algorithms of the workload key (istio-agent's choices).
enum class key_type {
  rsa,   ///< RSA, 2048 bits unless `key_size` (WORKLOAD_RSA_KEY_SIZE)
  ecdsa, ///< ECDSA P-256 unless `key_size` 384 (ECC_CURVE)
};

/// Everything `csrctl request` was told on its command line.
struct request_options {
  // -- who is asking ----------------------------------------------------------
  std::string namespace_;      ///< --namespace: the workload's namespace
  std::string service_account; ///< --service-account
  std::string impersonate;     ///< --impersonate: ImpersonatedIdentity
  std::string trust_domain = "cluster.local"; ///< --trust-domain
  std::string cluster_id = "Kubernetes";      ///< --cluster-id ("": none)

  // -- credentials ------------------------------------------------------------
  std::string kubeconfig; ///< --kubeconfig (else KUBECONFIG)
  std::string token_file; ///< --token-file: skip TokenRequest
  /// --bound-pod: the minted token is bound to this pod of --namespace (as
  /// ztunnel's projected token; its TokenReview names the pod).
  std::string bound_pod;
  bool no_token = false;             ///< --no-token
  std::string audience = "istio-ca"; ///< --audience of the minted token
  std::chrono::seconds token_expiration{1200}; ///< --token-expiration
  std::string client_cert;                     ///< --client-cert (PEM chain)
  std::string client_key;                      ///< --client-key (PEM)

  // -- the agent --------------------------------------------------------------
  std::string address = "127.0.0.1:6443"; ///< --address HOST:PORT
  std::string server_name = "cert-manager-istio-csr.cert-manager.svc";
  std::string root_ca;                  ///< --root-ca FILE
  std::string issuer_name = "istio-ca"; ///< --issuer-name (root fallback)
  std::string issuer_kind = "Issuer";   ///< --issuer-kind
  std::string issuer_namespace = "istio-system"; ///< --issuer-namespace
  std::chrono::milliseconds timeout{30000};      ///< --timeout of the call

  // -- the request ------------------------------------------------------------
  key_type key = key_type::rsa; ///< --key
  int key_size = 0;             ///< --key-size (0: 2048 / 256)
  std::chrono::seconds duration{std::chrono::hours{1}}; ///< --duration
  std::string cert_signer; ///< --cert-signer (metadata CertSigner)

  // -- output -----------------------------------------------------------------
  output_format output = output_format::text; ///< -o
  std::string key_out;                        ///< --key-out FILE (0600)
  std::string csr_out;                        ///< --csr-out FILE
};

} // namespace istio_csr::csrctl
