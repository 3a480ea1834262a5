#pragma once

#include <chrono>
#include <cstddef>

namespace istio_csr::grpc_bridge {

/// A token bucket: holds at most `burst` tokens, starts full, gains `rate`
/// tokens per second. Time is passed in, so it is deterministic to test.
/// Not thread-safe (one per connection, used on its strand).
class token_bucket {
 public:
  using clock = std::chrono::steady_clock;

  /// `burst` >= 1 events may happen at once; `rate` (>= 0) events per
  /// second are allowed on average after that.
  token_bucket(std::size_t burst, double rate) noexcept;

  /// Takes one token if there is one (after refilling up to `now`).
  bool try_take(clock::time_point now) noexcept;

  /// Tokens left after refilling up to `now` (for tests).
  double available(clock::time_point now) noexcept;

 private:
  void refill(clock::time_point now) noexcept;

  double burst_;
  double rate_;
  double tokens_;
  clock::time_point last_{};
  bool started_ = false;
};

} // namespace istio_csr::grpc_bridge
