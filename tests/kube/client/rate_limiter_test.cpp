#define CAF_SUITE kube.rate_limiter
#include "caf/test/unit_test.hpp"

#include "kube/client/rate_limiter.hpp"

using namespace istio_csr::kube;
using namespace std::chrono_literals;
using clock_type = rate_limiter::clock;

namespace {

clock_type::time_point t0 = clock_type::time_point{} + 1000s;

} // namespace

CAF_TEST(the burst passes without delay then requests are spaced at qps) {
  rate_limiter lim{10.0, 5, t0};
  for (int i = 0; i < 5; ++i)
    CAF_CHECK(lim.reserve(t0).delay == clock_type::duration::zero());
  // The 6th token is due 100 ms later, the 7th 200 ms later.
  CAF_CHECK(lim.reserve(t0).delay == std::chrono::nanoseconds{100ms});
  CAF_CHECK(lim.reserve(t0).delay == std::chrono::nanoseconds{200ms});
  // After waiting, reservations continue from the deficit.
  CAF_CHECK(lim.reserve(t0 + 200ms).delay == std::chrono::nanoseconds{100ms});
}

CAF_TEST(tokens refill up to the burst only) {
  rate_limiter lim{2.0, 3, t0};
  for (int i = 0; i < 3; ++i)
    lim.reserve(t0);
  CAF_CHECK_EQUAL(lim.available(t0), 0.0);
  CAF_CHECK_EQUAL(lim.available(t0 + 500ms), 1.0);
  // A long idle period does not bank more than `burst`.
  auto later = t0 + 1h;
  CAF_CHECK_EQUAL(lim.available(later), 3.0);
  for (int i = 0; i < 3; ++i)
    CAF_CHECK(lim.reserve(later).delay == clock_type::duration::zero());
  CAF_CHECK(lim.reserve(later).delay > clock_type::duration::zero());
}

CAF_TEST(sustained rate matches qps) {
  // 1000 requests at 500 qps with burst 100: the last one is due after
  // (1000 - 100) / 500 = 1.8 s.
  rate_limiter lim{500.0, 100, t0};
  clock_type::duration last{};
  for (int i = 0; i < 1000; ++i)
    last = lim.reserve(t0).delay;
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(last);
  CAF_CHECK_EQUAL(ms.count(), 1800);
}

CAF_TEST(the defaults absorb a mesh restart burst) {
  // Defaults 500 qps / burst 1000: a full restart of 10,000 pods within a
  // minute is ~167 CSR/s x 3 calls = ~500 calls/s. Simulate one minute of
  // that load arriving evenly: no call ever waits.
  rate_limiter lim{500.0, 1000, t0};
  int delayed = 0;
  for (int i = 0; i < 30000; ++i) {
    auto now = t0 + std::chrono::microseconds{i * 2000};
    if (lim.reserve(now).delay > clock_type::duration::zero())
      ++delayed;
  }
  CAF_CHECK_EQUAL(delayed, 0);
  // Even 1,000 calls arriving at once (all 10k pods' first call within 2 s
  // plus steady load) pass without delay.
  rate_limiter burst{500.0, 1000, t0};
  for (int i = 0; i < 1000; ++i)
    CAF_CHECK(burst.reserve(t0).delay == clock_type::duration::zero());
}

CAF_TEST(qps zero or less means no limit) {
  rate_limiter lim{0.0, 1, t0};
  for (int i = 0; i < 10000; ++i)
    CAF_CHECK(lim.reserve(t0).delay == clock_type::duration::zero());
}

CAF_TEST(a cancelled reservation gives its token back if it was the last) {
  rate_limiter lim{10.0, 1, t0};
  CAF_CHECK(lim.reserve(t0).delay == clock_type::duration::zero());
  auto a = lim.reserve(t0); // due in 100 ms
  auto b = lim.reserve(t0); // due in 200 ms
  auto c = lim.reserve(t0); // due in 300 ms
  CAF_CHECK(c.delay == std::chrono::nanoseconds{300ms});
  // Not the last one: b keeps its token (c's due time stays).
  CAF_CHECK(!lim.cancel(b.id, t0));
  // The last one goes back; then b (now the last) can too.
  CAF_CHECK(lim.cancel(c.id, t0));
  CAF_CHECK(!lim.cancel(c.id, t0));
  CAF_CHECK(lim.cancel(b.id, t0));
  // As if b and c had never been reserved: the next one is due after a.
  CAF_CHECK(lim.reserve(t0).delay == std::chrono::nanoseconds{200ms});
  CAF_CHECK(!lim.cancel(a.id, t0));
  // The bucket never holds more than its burst.
  rate_limiter full{10.0, 2, t0};
  auto x = full.reserve(t0);
  CAF_CHECK(full.cancel(x.id, t0 + 1h));
  CAF_CHECK_EQUAL(full.available(t0 + 1h), 2.0);
}
