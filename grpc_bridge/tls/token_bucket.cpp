#include "grpc_bridge/tls/token_bucket.hpp"

#include <algorithm>

namespace istio_csr::grpc_bridge {

token_bucket::token_bucket(std::size_t burst, double rate) noexcept
  : burst_(static_cast<double>(std::max<std::size_t>(burst, 1))),
    rate_(std::max(rate, 0.0)), tokens_(burst_) {}

void token_bucket::refill(clock::time_point now) noexcept {
  if (!started_) {
    started_ = true;
    last_ = now;
    return;
  }
  if (now <= last_)
    return;
  std::chrono::duration<double> elapsed = now - last_;
  tokens_ = std::min(burst_, tokens_ + elapsed.count() * rate_);
  last_ = now;
}

bool token_bucket::try_take(clock::time_point now) noexcept {
  refill(now);
  if (tokens_ < 1.0)
    return false;
  tokens_ -= 1.0;
  return true;
}

double token_bucket::available(clock::time_point now) noexcept {
  refill(now);
  return tokens_;
}

} // namespace istio_csr::grpc_bridge
