#pragma once

#include "retry/backoff.hpp"

namespace istio_csr::csrctl {

/// istio-agent's retry policy around CreateCertificate
/// (docs/istio-clients.md §A.2): at most `max_attempts` attempts, retried on
/// `retried_code`, waiting `backoff()` before each retry.
struct agent_retry {
  /// Attempts of one call, the first included.
  static constexpr int max_attempts = 5;

  /// Whether istio-agent tries again after this gRPC status code: CANCELLED,
  /// DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, ABORTED, INTERNAL, UNAVAILABLE.
  static bool retried_code(int grpc_code) noexcept;

  /// The wait before retry n (1-based): 100 ms · 2^(n-1), ±10 % jitter
  /// (100, 200, 400, 800 ms).
  static retry::backoff backoff();
};

} // namespace istio_csr::csrctl
