#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
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

/// Everything `csrctl load` was told on its command line. `call` holds what
/// it shares with `csrctl request` (who is asking, credentials, the agent,
/// the request; the certificate's validity is `--cert-duration` there).
struct load_options {
  request_options call;

  // -- the load ---------------------------------------------------------------
  /// --concurrency: closed-loop callers (default 16); with --rate, the
  /// calls in flight at most (default 1000).
  std::optional<size_t> concurrency;
  size_t connections = 1;                           ///< --connections
  std::optional<uint64_t> count;                    ///< --count: calls to make
  std::optional<std::chrono::milliseconds> run_for; ///< --duration
  std::optional<double> rate; ///< --rate: calls started per second
  size_t identities = 1;      ///< --identities: service accounts load-0..N-1
  bool retry = true;          ///< --retry / --no-retry: istio-agent's policy
  bool verify = false;        ///< --verify each chain
  bool json = false;          ///< --json: one JSON object on stdout
  /// Whether --token-expiration was given (else it follows --duration).
  bool token_expiration_set = false;
};

/// Bounds and defaults of `csrctl load`'s flags.
struct load_limits {
  static constexpr size_t default_callers = 16;     ///< closed loop
  static constexpr size_t default_in_flight = 1000; ///< with --rate
  static constexpr size_t max_concurrency = 10000;
  static constexpr size_t max_connections = 1000;
  static constexpr size_t max_identities = 10000;
  static constexpr double max_rate = 100000;
  static constexpr uint64_t max_count = 1000000000;
  static constexpr std::chrono::hours max_duration{24};
  static constexpr std::chrono::minutes max_timeout{10};
  /// Keys made for the CSRs, shared round-robin by the identities.
  static constexpr size_t key_pool = 8;
};

} // namespace istio_csr::csrctl
