#include "csrctl/agent_retry.hpp"

namespace istio_csr::csrctl {

bool agent_retry::retried_code(int grpc_code) noexcept {
  switch (grpc_code) {
    case 1:  // CANCELLED
    case 4:  // DEADLINE_EXCEEDED
    case 8:  // RESOURCE_EXHAUSTED
    case 10: // ABORTED
    case 13: // INTERNAL
    case 14: // UNAVAILABLE
      return true;
    default: return false;
  }
}

retry::backoff agent_retry::backoff() {
  retry::backoff b;
  b.initial = std::chrono::milliseconds{100};
  b.multiplier = 2.0;
  // No cap in istio-agent: the attempts end first (800 ms before the 5th).
  b.max = std::chrono::seconds{30};
  b.jitter_low = 0.9;
  b.jitter_high = 1.1;
  return b;
}

} // namespace istio_csr::csrctl
