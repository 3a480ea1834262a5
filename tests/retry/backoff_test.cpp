// The one backoff policy: exponential growth, the cap, jitter ranges, and
// the defaults each user relies on.

#define CAF_SUITE retry.backoff

#include "caf/test/unit_test.hpp"

#include <random>
#include <vector>

#include "retry/backoff.hpp"

using namespace std::chrono_literals;
using istio_csr::retry::backoff;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;

namespace {

std::vector<int64_t> delays_ms(const backoff& b, size_t n, double sample) {
  std::vector<int64_t> result;
  for (size_t attempt = 1; attempt <= n; ++attempt)
    result.push_back(
      std::chrono::duration_cast<milliseconds>(b.delay(attempt, sample))
        .count());
  return result;
}

} // namespace

CAF_TEST(delays double from initial up to max) {
  backoff b{.initial = 100ms, .max = 1s};
  CAF_CHECK_EQUAL(delays_ms(b, 6, 0.5),
                  (std::vector<int64_t>{100, 200, 400, 800, 1000, 1000}));
  CAF_CHECK_EQUAL(b.delay(1), nanoseconds{100ms});
  CAF_CHECK_EQUAL(b.delay(4), nanoseconds{800ms});
}

CAF_TEST(attempt zero and a zero initial delay mean no delay) {
  backoff b{.initial = 100ms, .max = 1s};
  CAF_CHECK_EQUAL(b.delay(0), nanoseconds::zero());
  b.initial = 0ms;
  CAF_CHECK_EQUAL(b.delay(3), nanoseconds::zero());
  b.initial = -5ms;
  CAF_CHECK_EQUAL(b.delay(3, 1.0), nanoseconds::zero());
}

CAF_TEST(large attempts saturate at max without overflow) {
  backoff b{.initial = 1s, .max = 30s};
  CAF_CHECK_EQUAL(b.delay(64), nanoseconds{30s});
  CAF_CHECK_EQUAL(b.delay(100000), nanoseconds{30s});
  CAF_CHECK_EQUAL(b.delay(size_t{1} << 40, 1.0), nanoseconds{30s});
}

CAF_TEST(multiplier below one counts as one) {
  backoff b{.initial = 10ms, .max = 1s, .multiplier = 0.5};
  CAF_CHECK_EQUAL(b.delay(1), nanoseconds{10ms});
  CAF_CHECK_EQUAL(b.delay(7), nanoseconds{10ms});
  b.multiplier = 3.0;
  CAF_CHECK_EQUAL(b.delay(3), nanoseconds{90ms});
}

CAF_TEST(jitter scales the capped delay within its range) {
  // The kube client's range: [50 %, 100 %] of the capped delay.
  backoff lower{
    .initial = 100ms, .max = 1s, .jitter_low = 0.5, .jitter_high = 1.0};
  CAF_CHECK_EQUAL(lower.delay(2, 0.0), nanoseconds{100ms});
  CAF_CHECK_EQUAL(lower.delay(2, 1.0), nanoseconds{200ms});
  CAF_CHECK_EQUAL(lower.delay(2, 0.5), nanoseconds{150ms});
  CAF_CHECK_EQUAL(lower.delay(10, 0.0), nanoseconds{500ms});
  // Samples outside [0, 1] are clamped.
  CAF_CHECK_EQUAL(lower.delay(2, -3.0), nanoseconds{100ms});
  CAF_CHECK_EQUAL(lower.delay(2, 7.0), nanoseconds{200ms});
  // The cert-obtainer's ±5 % may exceed max (the cap applies before).
  backoff both{
    .initial = 1s, .max = 30s, .jitter_low = 0.95, .jitter_high = 1.05};
  CAF_CHECK_EQUAL(both.delay(1, 0.0), nanoseconds{950ms});
  CAF_CHECK_EQUAL(both.delay(1, 1.0), nanoseconds{1050ms});
  CAF_CHECK_EQUAL(both.delay(20, 1.0), nanoseconds{31500ms});
  // Without jitter the sample does not matter.
  backoff none{.initial = 100ms, .max = 1s};
  CAF_CHECK(!none.has_jitter());
  CAF_CHECK_EQUAL(none.delay(2, 0.0), nanoseconds{200ms});
  CAF_CHECK_EQUAL(none.delay(2, 1.0), nanoseconds{200ms});
}

CAF_TEST(random jitter stays in range and varies) {
  backoff b{.initial = 100ms, .max = 1s, .jitter_low = 0.5, .jitter_high = 1.0};
  std::mt19937_64 rng{42};
  bool varied = false;
  auto first = b.delay(3, rng);
  for (int i = 0; i < 200; ++i) {
    auto d = b.delay(3, rng);
    CAF_CHECK_GREATER_OR_EQUAL(d, nanoseconds{200ms});
    CAF_CHECK_LESS_OR_EQUAL(d, nanoseconds{400ms});
    varied = varied || d != first;
  }
  CAF_CHECK(varied);
  // No jitter: no draw, the exact delay.
  backoff none{.initial = 100ms, .max = 1s};
  CAF_CHECK_EQUAL(none.delay(3, rng), nanoseconds{400ms});
}

CAF_TEST(the defaults are 100 ms doubling to 30 s without jitter) {
  backoff b;
  CAF_CHECK_EQUAL(b.delay(1), nanoseconds{100ms});
  CAF_CHECK_EQUAL(b.delay(2), nanoseconds{200ms});
  CAF_CHECK_EQUAL(b.delay(30), nanoseconds{30s});
  CAF_CHECK(!b.has_jitter());
}
