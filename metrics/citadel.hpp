#pragma once

#include <string_view>

#include "metrics/handles.hpp"

namespace istio_csr::metrics {

/// istiod's CA families (Istio's security/pkg/server/ca/monitoring.go),
/// so that Istio's control-plane dashboards show this CA unchanged. Every
/// CSR that reaches the signing domain counts once in `csr_count` and ends
/// in exactly one of the outcome counters (docs/metrics.md).
struct citadel_handles {
  /// `citadel_server_csr_count`: CSRs received.
  counter csr_count;
  /// `citadel_server_authentication_failure_count`.
  counter authentication_failure;
  /// `citadel_server_csr_parsing_err_count`.
  counter csr_parsing_error;
  /// `citadel_server_id_extraction_err_count`.
  counter id_extraction_error;
  /// `citadel_server_success_cert_issuance_count`.
  counter success;
  /// `citadel_server_root_cert_expiry_timestamp` (unix seconds).
  gauge root_cert_expiry;
  /// `citadel_server_cert_chain_expiry_timestamp` (unix seconds).
  gauge cert_chain_expiry;

  /// `citadel_server_csr_sign_err_count{error}`; `error` is one of a fixed
  /// set (the domain's error names), never caller data.
  counter sign_error(std::string_view error) const;
};

/// The families; the unlabelled series exist from the first scrape.
const citadel_handles& citadel();

} // namespace istio_csr::metrics
