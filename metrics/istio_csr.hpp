#pragma once

#include <string_view>

#include "metrics/handles.hpp"

namespace istio_csr::metrics {

/// Families only this design can tell (`istio_csr_*`); docs/metrics.md.
/// No label carries an identity, namespace or pod.
struct istio_csr_handles {
  /// `istio_csr_requests_in_flight`: CreateCertificate calls accepted by
  /// the gRPC server and not answered yet.
  gauge requests_in_flight;
  /// `istio_csr_certificate_requests_waiting`: CertificateRequests created
  /// for callers and not final yet.
  gauge certificate_requests_waiting;
  /// `istio_csr_issuer_wait_seconds`: from a CertificateRequest's creation
  /// to its final state (issued, denied, failed) as the signer saw it.
  histogram issuer_wait;
  /// `istio_csr_token_review_duration_seconds`: one TokenReview call.
  histogram token_review;
  /// `istio_csr_serving_certificate_expiry_timestamp_seconds`.
  gauge serving_certificate_expiry;
  /// `istio_csr_configmaps_repaired_total`: istio-ca-root-cert ConfigMaps
  /// created or rewritten.
  counter configmaps_repaired;
  /// `istio_csr_pod_index_pods`: pods in the Ambient pod index.
  gauge pod_index_pods;

  /// `istio_csr_actor_restarts_total{actor}`. `actor` is a child name
  /// without its instance part ("configmap/<ns>" → "configmap",
  /// "csr-signer-3" → "csr-signer"); a lookup under a lock (restarts are
  /// rare).
  counter actor_restarts(std::string_view actor) const;

  /// `istio_csr_chaos_kills_total{actor}`: actors killed by chaos mode
  /// (`--chaos-kill-interval`), `actor` as in `actor_restarts`.
  counter chaos_kills(std::string_view actor) const;

  /// `istio_csr_tls_handshake_failures_total{reason}`, `reason` from the
  /// fixed set of `tls_failure_reason`.
  counter tls_handshake_failures(std::string_view reason) const;
};

/// The bounded label value of a supervised child's name (see
/// `actor_restarts`).
std::string_view actor_label(std::string_view child_name) noexcept;

const istio_csr_handles& ours();

} // namespace istio_csr::metrics
