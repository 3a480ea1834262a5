#include "kube/client/rate_limiter.hpp"

#include <algorithm>

namespace istio_csr::kube {

rate_limiter::rate_limiter(double qps, int burst,
                           clock::time_point now) noexcept
  : qps_(qps), burst_(std::max(burst, 1)), tokens_(burst_), last_(now) {
  // nop
}

void rate_limiter::refill(clock::time_point now) noexcept {
  if (now <= last_)
    return;
  auto elapsed = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(static_cast<double>(burst_), tokens_ + elapsed * qps_);
  last_ = now;
}

rate_limiter::reservation
rate_limiter::reserve(clock::time_point now) noexcept {
  auto id = ++reserved_;
  returnable_ = id;
  if (qps_ <= 0)
    return {clock::duration::zero(), id};
  refill(now);
  tokens_ -= 1.0;
  if (tokens_ >= 0)
    return {clock::duration::zero(), id};
  // The deficit is paid back at qps tokens per second; `last_` may be ahead
  // of `now` only by rounding, so measure from `now`.
  auto wait = std::chrono::duration<double>(-tokens_ / qps_);
  return {std::chrono::ceil<clock::duration>(wait), id};
}

bool rate_limiter::cancel(uint64_t id, clock::time_point now) noexcept {
  if (id == 0 || id != returnable_)
    return false;
  returnable_ = id - 1;
  if (qps_ <= 0)
    return true;
  refill(now);
  tokens_ = std::min(static_cast<double>(burst_), tokens_ + 1.0);
  return true;
}

double rate_limiter::available(clock::time_point now) const noexcept {
  if (qps_ <= 0 || now <= last_)
    return tokens_;
  auto elapsed = std::chrono::duration<double>(now - last_).count();
  return std::min(static_cast<double>(burst_), tokens_ + elapsed * qps_);
}

} // namespace istio_csr::kube
