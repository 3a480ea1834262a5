#pragma once

#include <chrono>

namespace istio_csr::kube {

/// A token bucket (client-go's `flowcontrol.NewTokenBucketRateLimiter`):
/// `burst` tokens, refilled at `qps` per second. It never refuses: each
/// `reserve` takes a token, possibly one that only exists in the future, and
/// says how long the caller has to wait for it. The caller waits on a timer,
/// never on a thread. The clock is a parameter, so tests control time.
class rate_limiter {
 public:
  using clock = std::chrono::steady_clock;

  /// A limiter with a full bucket at `now`. `qps <= 0` means no limit.
  rate_limiter(double qps, int burst, clock::time_point now) noexcept;

  /// Takes one token; returns the delay until it is due (zero when a token
  /// was available).
  clock::duration reserve(clock::time_point now) noexcept;

  /// Tokens available at `now` (negative: reservations waiting).
  double available(clock::time_point now) const noexcept;

  double qps() const noexcept {
    return qps_;
  }

  int burst() const noexcept {
    return burst_;
  }

 private:
  void refill(clock::time_point now) noexcept;

  double qps_;
  int burst_;
  double tokens_;
  clock::time_point last_;
};

} // namespace istio_csr::kube
