// Latency percentiles of csrctl load: nearest rank, exact below 512 µs,
// within 0.4 % above and never below the true value.

#define CAF_SUITE csrctl.latency_histogram

#include "caf/test/unit_test.hpp"

#include <memory>

#include "csrctl/latency_histogram.hpp"

using namespace std::chrono_literals;
using istio_csr::csrctl::latency_histogram;
using us = std::chrono::microseconds;

namespace {

std::unique_ptr<latency_histogram> histogram() {
  return std::make_unique<latency_histogram>();
}

} // namespace

CAF_TEST(an empty histogram reports zero) {
  auto h = histogram();
  CAF_CHECK_EQUAL(h->count(), 0u);
  CAF_CHECK_EQUAL(h->percentile(50), us{0});
  CAF_CHECK_EQUAL(h->max(), us{0});
}

CAF_TEST(small values are exact with nearest rank) {
  auto h = histogram();
  // 1..100 µs, recorded out of order.
  for (int i = 100; i >= 1; --i)
    h->record(std::chrono::microseconds{i});
  CAF_CHECK_EQUAL(h->count(), 100u);
  CAF_CHECK_EQUAL(h->percentile(50), us{50});
  CAF_CHECK_EQUAL(h->percentile(90), us{90});
  CAF_CHECK_EQUAL(h->percentile(99), us{99});
  CAF_CHECK_EQUAL(h->percentile(100), us{100});
  CAF_CHECK_EQUAL(h->percentile(0.5), us{1});
  CAF_CHECK_EQUAL(h->max(), us{100});
  // Four values: p50 is the second, p99 the fourth.
  auto four = histogram();
  for (int v : {10, 20, 30, 40})
    four->record(std::chrono::microseconds{v});
  CAF_CHECK_EQUAL(four->percentile(50), us{20});
  CAF_CHECK_EQUAL(four->percentile(51), us{30});
  CAF_CHECK_EQUAL(four->percentile(99), us{40});
}

CAF_TEST(large values are within the bucket precision and never under) {
  auto h = histogram();
  // 1 ms .. 1000 ms.
  for (int i = 1; i <= 1000; ++i)
    h->record(std::chrono::milliseconds{i});
  for (auto [p, exact] : {std::pair{50.0, 500000}, std::pair{90.0, 900000},
                          std::pair{99.0, 990000}}) {
    auto got = h->percentile(p).count();
    CAF_CHECK_GREATER_OR_EQUAL(got, exact);
    CAF_CHECK_LESS_OR_EQUAL(got, exact + exact / 256);
  }
  CAF_CHECK_EQUAL(h->percentile(100), us{1000000});
  CAF_CHECK_EQUAL(h->max(), us{1000000});
}

CAF_TEST(a percentile is never above the largest value) {
  auto h = histogram();
  h->record(1234567us);
  CAF_CHECK_EQUAL(h->percentile(50), us{1234567});
  CAF_CHECK_EQUAL(h->percentile(99.9), us{1234567});
}

CAF_TEST(sub microsecond and negative and huge values are clamped) {
  auto h = histogram();
  h->record(std::chrono::nanoseconds{-5});
  h->record(std::chrono::nanoseconds{999});
  CAF_CHECK_EQUAL(h->percentile(100), us{0});
  h->record(std::chrono::hours{24 * 365});
  CAF_CHECK_EQUAL(h->count(), 3u);
  // About 12.7 days at most.
  CAF_CHECK_EQUAL(h->max(), us{(int64_t{1} << 40) - 1});
  CAF_CHECK_EQUAL(h->percentile(100), h->max());
}
