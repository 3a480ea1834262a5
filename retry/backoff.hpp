#pragma once

#include <chrono>
#include <concepts>
#include <cstddef>
#include <random>

namespace istio_csr::retry {

/// Exponential backoff with a cap and jitter: the one policy behind every
/// "try again later" of the project (supervisor restarts, kube client
/// retries, informer re-lists, controller retries, serving certificate
/// attempts). Each user keeps its own defaults by filling in the fields.
///
/// The delay before retry number `attempt` (1-based: the first retry after
/// the first failure) is `min(max, initial * multiplier^(attempt - 1))`,
/// then multiplied by a jitter factor drawn uniformly from
/// `[jitter_low, jitter_high]`, e.g. `{0.5, 1.0}` spreads retries over the
/// lower half (kube client), `{0.95, 1.05}` is ±5 % (cert-obtainer) and
/// `{1.0, 1.0}` (default) is none (supervisor).
struct backoff {
  /// Delay before the first retry; zero or less: no delay at all.
  std::chrono::nanoseconds initial = std::chrono::milliseconds{100};
  /// Upper bound of the delay before jitter.
  std::chrono::nanoseconds max = std::chrono::seconds{30};
  /// Growth per further attempt; values below 1 count as 1.
  double multiplier = 2.0;
  /// Range of the jitter factor.
  double jitter_low = 1.0;
  double jitter_high = 1.0;

  /// The delay before retry `attempt` without jitter; zero for attempt 0.
  /// Saturates at `max` for any attempt (no overflow).
  std::chrono::nanoseconds delay(size_t attempt) const;

  /// The delay before retry `attempt` with the jitter factor at `sample`
  /// in [0, 1] of its range (clamped): 0 gives `jitter_low`, 1 gives
  /// `jitter_high`. Deterministic, for tests and callers that draw their
  /// own random numbers.
  std::chrono::nanoseconds delay(size_t attempt, double sample) const;

  /// The delay before retry `attempt` with a jitter factor drawn from
  /// `rng` (no draw when the policy has no jitter).
  template <std::uniform_random_bit_generator Rng>
  std::chrono::nanoseconds delay(size_t attempt, Rng& rng) const {
    if (!has_jitter())
      return delay(attempt);
    return delay(attempt,
                 std::uniform_real_distribution<double>{0.0, 1.0}(rng));
  }

  /// Whether the jitter range is not a single point.
  bool has_jitter() const noexcept {
    return jitter_low != jitter_high;
  }
};

} // namespace istio_csr::retry
