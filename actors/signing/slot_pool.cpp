#include "actors/signing/slot_pool.hpp"

namespace istio_csr::actors::signing {

slot& slot::operator=(slot&& other) noexcept {
  if (this != &other) {
    release();
    pool_ = std::move(other.pool_);
  }
  return *this;
}

slot::~slot() {
  release();
}

void slot::release() noexcept {
  if (pool_) {
    --pool_->used_;
    pool_.reset();
  }
}

std::shared_ptr<slot_pool> slot_pool::make(std::size_t limit) {
  return std::shared_ptr<slot_pool>{new slot_pool(limit)};
}

std::optional<slot> slot_pool::try_acquire() {
  auto used = used_.load();
  do {
    if (used >= limit_)
      return std::nullopt;
  } while (!used_.compare_exchange_weak(used, used + 1));
  return slot{shared_from_this()};
}

} // namespace istio_csr::actors::signing
