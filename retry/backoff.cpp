#include "retry/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace istio_csr::retry {

std::chrono::nanoseconds backoff::delay(size_t attempt) const {
  using std::chrono::nanoseconds;
  if (initial <= nanoseconds::zero() || attempt == 0)
    return nanoseconds::zero();
  // Floating point, so that large attempts saturate at `max` instead of
  // overflowing.
  auto factor = std::pow(multiplier < 1.0 ? 1.0 : multiplier,
                         static_cast<double>(attempt - 1));
  auto ns = static_cast<double>(initial.count()) * factor;
  if (!std::isfinite(ns) || ns >= static_cast<double>(max.count()))
    return std::max(max, nanoseconds::zero());
  return nanoseconds{static_cast<nanoseconds::rep>(ns)};
}

std::chrono::nanoseconds backoff::delay(size_t attempt, double sample) const {
  using std::chrono::nanoseconds;
  auto base = delay(attempt);
  if (!has_jitter() || base <= nanoseconds::zero())
    return base;
  sample = std::isfinite(sample) ? std::clamp(sample, 0.0, 1.0) : 1.0;
  auto factor = jitter_low + (jitter_high - jitter_low) * sample;
  auto ns = static_cast<double>(base.count()) * std::max(factor, 0.0);
  if (!std::isfinite(ns)
      || ns >= static_cast<double>(nanoseconds::max().count()))
    return nanoseconds::max();
  return nanoseconds{static_cast<nanoseconds::rep>(ns)};
}

} // namespace istio_csr::retry
