#define CAF_SUITE signing_actors.slot_pool

#include "caf/test/unit_test.hpp"

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "actors/signing/slot_pool.hpp"

using namespace istio_csr::actors::signing;

CAF_TEST(slots are bounded and come back when released) {
  auto pool = slot_pool::make(2);
  auto a = pool->try_acquire();
  auto b = pool->try_acquire();
  CAF_REQUIRE(a && b);
  CAF_CHECK(!pool->try_acquire());
  CAF_CHECK_EQUAL(pool->in_use(), 2u);
  {
    auto moved = std::move(*a);
    CAF_CHECK(moved);
    CAF_CHECK(!*a);
    CAF_CHECK_EQUAL(pool->in_use(), 2u);
  }
  CAF_CHECK_EQUAL(pool->in_use(), 1u);
  auto c = pool->try_acquire();
  CAF_CHECK(c.has_value());
  // Assigning over a held slot gives the old one back.
  *c = std::move(*b);
  CAF_CHECK_EQUAL(pool->in_use(), 1u);
}

CAF_TEST(slots survive their pool handle and many threads) {
  auto pool = slot_pool::make(8);
  std::vector<std::thread> threads;
  std::atomic<int> over{0};
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        auto s = pool->try_acquire();
        if (s && pool->in_use() > pool->limit())
          ++over;
      }
    });
  for (auto& t : threads)
    t.join();
  CAF_CHECK_EQUAL(over.load(), 0);
  CAF_CHECK_EQUAL(pool->in_use(), 0u);
  auto held = pool->try_acquire();
  std::weak_ptr<slot_pool> weak = pool;
  pool.reset();
  CAF_CHECK(!weak.expired()); // the slot keeps its pool alive
  held.reset();
  CAF_CHECK(weak.expired());
}
