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
  auto backoff = initial_backoff;
  for (int i = 1; i < f.attempt && backoff < max_backoff; ++i)
    backoff *= 2;
  backoff = std::min(backoff, max_backoff);
  jitter = std::clamp(jitter, 0.0, 1.0);
  auto scaled = backoff.count() * (0.5 + 0.5 * jitter);
  return std::chrono::milliseconds{static_cast<int64_t>(scaled)};
}

} // namespace istio_csr::kube
