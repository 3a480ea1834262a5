#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>

namespace istio_csr::actors::signing {

class slot_pool;

/// One unit taken from a `slot_pool`, given back when the slot is destroyed
/// (so also when the actor holding it dies). Move-only.
class slot {
 public:
  slot() = default;
  slot(slot&& other) noexcept : pool_(std::move(other.pool_)) {}
  slot& operator=(slot&& other) noexcept;
  slot(const slot&) = delete;
  slot& operator=(const slot&) = delete;
  ~slot();

  /// Whether this slot holds a unit.
  explicit operator bool() const noexcept {
    return pool_ != nullptr;
  }

 private:
  friend class slot_pool;
  explicit slot(std::shared_ptr<slot_pool> pool) : pool_(std::move(pool)) {}
  void release() noexcept;
  std::shared_ptr<slot_pool> pool_;
};

/// A bounded count shared by several actors (and their later
/// incarnations), e.g. the CertificateRequests that all csr-signers have
/// waiting at once. Thread-safe.
class slot_pool : public std::enable_shared_from_this<slot_pool> {
 public:
  /// A pool of `limit` slots.
  static std::shared_ptr<slot_pool> make(std::size_t limit);

  /// A slot, or nullopt when all `limit` are taken.
  std::optional<slot> try_acquire();

  /// Slots taken now.
  std::size_t in_use() const noexcept {
    return used_.load();
  }

  std::size_t limit() const noexcept {
    return limit_;
  }

 private:
  friend class slot;
  explicit slot_pool(std::size_t limit) : limit_(limit) {}
  const std::size_t limit_;
  std::atomic<std::size_t> used_{0};
};

} // namespace istio_csr::actors::signing
