#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/kube_client_flags.hpp"
#include "config/listen_address.hpp"
#include "config/tls_names.hpp"
#include "kube/api/label_selector.hpp"

namespace istio_csr::config {

using namespace std::chrono_literals;

/// Go-style durations are kept with nanosecond precision.
using duration = std::chrono::nanoseconds;

/// A cert-manager issuerRef.
struct issuer_ref {
  std::string name;
  std::string kind;
  std::string group;

  friend bool operator==(const issuer_ref&, const issuer_ref&) = default;
};

/// The longest `--shutdown-grace-period`: a mistyped value must not keep a
/// stuck process alive for hours.
inline constexpr duration max_shutdown_grace_period = 10min;

/// The longest `--request-read-timeout`: beyond it, streams that never send
/// their request hold memory about as long as with no limit.
inline constexpr duration max_request_read_timeout = 5min;

/// docs/upstream.md §1.1: the gRPC serving side.
struct serving_options {
  std::string address = "0.0.0.0:6443";          ///< -a/--serving-address
  duration max_client_certificate_duration = 1h; ///< -m
  std::string cluster_id = "Kubernetes";         ///< --cluster-id
  bool enable_client_cert_authenticator = false; ///< --enable-client-...
  /// --ca-trusted-node-accounts, `namespace/serviceaccount` entries as given
  /// (entries without '/' are kept here; the server logs and ignores them).
  std::vector<std::string> ca_trusted_node_accounts;
  /// --max-concurrent-requests (ours): CreateCertificate calls in progress
  /// at once; beyond it calls are answered RESOURCE_EXHAUSTED (retried by
  /// istio-agent and ztunnel) without any work.
  int max_concurrent_requests = 2048;
  /// --token-review-cache-ttl (ours): how long a successful TokenReview is
  /// reused for the same token and audiences (never past the token's `exp`);
  /// zero disables the cache.
  duration token_review_cache_ttl = 10s;
  /// --request-read-timeout (ours): how long a client has, once its TLS
  /// handshake is done, to send its HTTP/2 preface, and each request to
  /// arrive completely after its stream opened; then its connection is
  /// closed (GOAWAY ENHANCE_YOUR_CALM). Upstream waits up to 120 s for the
  /// preface and forever for a request.
  duration request_read_timeout = 10s;
  /// --shutdown-grace-period (ours): how long the whole shutdown after
  /// SIGTERM or SIGINT may take (drain, Lease release, actors); the process
  /// exits non-zero when it overruns. Below Kubernetes' default
  /// terminationGracePeriodSeconds (30 s).
  duration shutdown_grace_period = 25s;
};

/// docs/upstream.md §1.2: cert-manager and the static issuer.
struct issuer_options {
  std::string certificate_namespace = "istio-system"; ///< -c
  bool enabled = true;                                ///< -e/--issuer-enabled
  /// -u/--issuer-name, -k/--issuer-kind, -g/--issuer-group as given.
  issuer_ref ref{"istio-ca", "Issuer", "cert-manager.io"};
  bool preserve_certificate_requests = false; ///< -d
  /// --certificate-request-additional-annotations.
  std::map<std::string, std::string> additional_annotations;
  /// --certificate-request-timeout: server-side deadline of one signing wait
  /// (ours; upstream has none). Zero disables it.
  duration certificate_request_timeout = 30s;
  /// --max-pending-certificate-requests (ours): CertificateRequests created
  /// and not finished at once; a call beyond it is answered UNAVAILABLE
  /// (retried by istio-agent and ztunnel) before it creates one.
  int max_pending_certificate_requests = 1024;

  /// The issuerRef used at startup: nullopt when the issuer is disabled or
  /// name, kind and group are all empty (then runtime config is required).
  /// Set by validation.
  std::optional<issuer_ref> static_issuer;
};

/// docs/upstream.md §1.3: the runtime issuer ConfigMap.
struct runtime_config_options {
  std::string name;       ///< --runtime-issuance-config-map-name
  std::string namespace_; ///< --runtime-issuance-config-map-namespace

  /// Runtime configuration is active only when both are set.
  bool enabled() const noexcept {
    return !name.empty() && !namespace_.empty();
  }
};

/// Key algorithm of a generated private key.
enum class key_algorithm { rsa, ecdsa };

/// docs/upstream.md §1.4: the serving certificate and TLS server settings.
struct tls_options {
  std::string trust_domain = "cluster.local"; ///< --trust-domain
  std::string root_ca_file;                   ///< --root-ca-file
  duration serving_certificate_duration = 1h; ///< -t
  /// --serving-certificate-dns-names.
  std::vector<std::string> serving_certificate_dns_names{
    "cert-manager-istio-csr.cert-manager.svc"};
  int serving_certificate_key_size = 2048;         ///< --serving-...-key-size
  std::string serving_signature_algorithm = "RSA"; ///< exactly RSA or ECDSA
  std::string serving_tls_min_version;             ///< as given
  std::vector<std::string> serving_tls_cipher_suites;     ///< as given
  std::vector<std::string> serving_tls_curve_preferences; ///< as given

  // -- resolved by validation ----------------------------------------------

  /// The serving key type from --serving-signature-algorithm.
  key_algorithm serving_key_algorithm = key_algorithm::rsa;
  /// max(--serving-tls-min-version, TLS 1.2).
  tls_version min_version = tls_version::tls12;
  /// The cipher suites in the given order; empty means library defaults.
  std::vector<cipher_suite> cipher_suites;
  /// The curves in preference order; empty means library defaults.
  std::vector<tls_curve> curves;
};

/// docs/upstream.md §1.5: the ConfigMap distributor and controllers.
struct controller_options {
  std::string leader_election_namespace = "istio-system";
  /// --configmap-namespace-selector as given.
  std::string configmap_namespace_selector;
  /// The parsed selector (empty selector = all namespaces).
  kube::label_selector namespace_selector;
  int max_concurrent_reconciles = 1;
  /// --leader-election-lease-duration, --leader-election-renew-deadline,
  /// --leader-election-retry-period (ours; upstream has client-go's fixed
  /// 15 s, 10 s, 2 s): how long a Lease is valid after its last renewal
  /// (whole seconds on the wire), how long the leader keeps trying to renew
  /// before it stops leading, how often candidates and the leader try.
  duration leader_election_lease_duration = 15s;
  duration leader_election_renew_deadline = 10s;
  duration leader_election_retry_period = 2s;
};

/// docs/upstream.md §1.6: the dynamic istiod Certificate.
struct istiod_cert_options {
  bool enabled = false;                ///< --istiod-cert-enabled
  std::string name = "istiod-dynamic"; ///< --istiod-cert-name
  std::string namespace_ = "istio-system";
  duration cert_duration = 1h;   ///< --istiod-cert-duration
  duration renew_before = 30min; ///< --istiod-cert-renew-before
  /// --istiod-cert-key-algorithm, upper-cased by validation when enabled.
  std::string key_algorithm = "RSA";
  /// --istiod-cert-key-size; validation turns 0 into 2048 (RSA) or 256.
  int key_size = 2048;
  std::vector<std::string> additional_dns_names;
  std::map<std::string, std::string> additional_annotations;
  /// --istiod-cert-istio-revisions as given; see revisions().
  std::vector<std::string> istio_revisions;

  /// The revisions that get DNS names: `[default]` when none are given.
  std::vector<std::string> revisions() const {
    if (istio_revisions.empty())
      return {"default"};
    return istio_revisions;
  }
};

/// `--log-format`.
enum class log_format { text, json };

/// docs/upstream.md §1.7: logging, metrics and readiness.
struct telemetry_options {
  int log_level = 1;                    ///< -v/--log-level
  std::string log_format_name = "text"; ///< --log-format as given
  log_format format = log_format::text; ///< resolved by validation
  int readiness_probe_port = 6060;
  std::string readiness_probe_path = "/readyz";
  int metrics_port = 9402;
};

/// The debug endpoint (ours; docs/debugging.md). Off by default.
struct debug_options {
  /// --debug-address as given; empty: no debug endpoint.
  std::string address;

  // -- resolved by validation ----------------------------------------------

  /// Where it listens (an empty host is 127.0.0.1).
  listen_address listen;

  bool enabled() const noexcept {
    return !address.empty();
  }
};

/// Chaos mode (ours; docs/debugging.md): kills a random actor of the
/// supervision tree at an interval. Off by default.
struct chaos_options {
  /// --chaos-kill-interval; zero: chaos mode off.
  duration kill_interval = duration::zero();
  /// --chaos-seed; none: a random seed (logged).
  std::optional<int64_t> seed;
  /// --chaos-actors: patterns (`validate_glob`) an actor's path or name
  /// must match to be killed; empty: every actor.
  std::vector<std::string> actors;
  /// --chaos-include-supervisors: supervisors may be killed too (never the
  /// root supervisor).
  bool include_supervisors = false;
  /// --chaos-allow-give-up: an actor may be killed when its supervisor
  /// would give up (in the end, the process exits 70).
  bool allow_give_up = false;

  bool enabled() const noexcept {
    return kill_interval > duration::zero();
  }
};

/// Every setting of the agent: the command line (grouped as in
/// docs/upstream.md §1) plus the environment. Built once by `config::parse`,
/// then only read.
struct options {
  serving_options serving;
  issuer_options issuer;
  runtime_config_options runtime_config;
  tls_options tls;
  controller_options controller;
  istiod_cert_options istiod_cert;
  telemetry_options telemetry;
  kube_client_flags kube;
  debug_options debug;
  chaos_options chaos;
  /// $TOKEN_AUDIENCES (comma-separated): audiences of every TokenReview.
  std::vector<std::string> token_audiences{"istio-ca"};
};

} // namespace istio_csr::config
