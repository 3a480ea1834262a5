#pragma once

#include "signing_api/sign_reply.hpp"

namespace istio_csr::actors::signing {

/// Why the signer refused a caller, for istiod's CA counters
/// (`citadel_server_*`, metrics/citadel.hpp).
enum class refusal {
  /// Authentication or authorization failed (TokenReview, cluster, client
  /// certificate, impersonation, CSR identities):
  /// `citadel_server_authentication_failure_count`.
  authentication,
  /// The CSR does not parse: `citadel_server_csr_parsing_err_count`.
  csr_parsing,
  /// The caller has no identity to sign for:
  /// `citadel_server_id_extraction_err_count`.
  id_extraction,
};

/// Counts one refusal (the signer calls it as it refuses, before the
/// reply carries `unauthenticated`, which `count_outcome` leaves alone).
void count_refusal(refusal kind);

/// Counts the result a caller gets:
/// `citadel_server_success_cert_issuance_count` for a chain,
/// `citadel_server_csr_sign_err_count{error}` (the `sign_errc` name) for every
/// error but `unauthenticated` (counted by `count_refusal`). With
/// `citadel_server_csr_count` counted when a request enters
/// (`dispatch_handler`), every CSR counts in exactly one outcome.
void count_outcome(const signing_api::sign_result& result);

} // namespace istio_csr::actors::signing
