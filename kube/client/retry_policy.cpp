#include "kube/client/retry_policy.hpp"

#include <algorithm>

#include "kube/api/errc.hpp"

namespace istio_csr::kube {

bool retry_policy::retryable(const failure& f) {
  auto code = errc_of(f.err);
  if (!code)
    return false;
  switch (*code) {
    case errc::too_many_requests: return true;
    case errc::connection_failed: return !f.request_sent || f.idempotent;
    case errc::server_error:
    case errc::timeout: return f.idempotent;
    default: return false;
  }
}

std::optional<std::chrono::milliseconds>
retry_policy::next_delay(const failure& f, double jitter) const {
  if (f.attempt >= max_attempts || !retryable(f))
    return std::nullopt;
  if (f.retry_after) {
    auto wait
      = std::chrono::duration_cast<std::chrono::milliseconds>(*f.retry_after);
    return std::clamp(wait, std::chrono::milliseconds{0}, max_retry_after);
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(
    backoff().delay(static_cast<size_t>(std::max(f.attempt, 1)), jitter));
}

retry::backoff retry_policy::backoff() const {
  return retry::backoff{.initial = initial_backoff,
                        .max = max_backoff,
                        .multiplier = 2.0,
                        .jitter_low = 0.5,
                        .jitter_high = 1.0};
}

} // namespace istio_csr::kube
