#pragma once

#include <chrono>
#include <cstdint>

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

  /// One token taken by `reserve`.
  struct reservation {
    /// How long until the token is due (zero when one was available).
    clock::duration delay;
    /// Names the reservation for `cancel`.
    uint64_t id;
  };

  /// Takes one token.
  reservation reserve(clock::time_point now) noexcept;

  /// Gives back the token of reservation `id`, whose request will not be
  /// sent (cancelled while it waited), if nothing was reserved after it
  /// that is still outstanding: the later ones keep their due times, so only
  /// the last token can go back without letting a new request overtake them
  /// (Go's `rate.Reservation.Cancel` restores tokens the same way). After
  /// that the reservation before it is the last. Returns whether it did.
  bool cancel(uint64_t id, clock::time_point now) noexcept;

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
  /// Reservations made so far (the last one's id).
  uint64_t reserved_ = 0;
  /// The reservation `cancel` may give back: the last one not given back.
  uint64_t returnable_ = 0;
};

} // namespace istio_csr::kube
