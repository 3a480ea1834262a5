#include "csrctl/latency_histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace istio_csr::csrctl {

namespace {

constexpr uint64_t exact_limit = uint64_t{1} << latency_histogram::exact_bits;
constexpr uint64_t value_limit = (uint64_t{1} << latency_histogram::max_bits);

} // namespace

size_t latency_histogram::bucket_of(uint64_t us) noexcept {
  if (us < exact_limit)
    return static_cast<size_t>(us);
  // The power of two of `us` and its next `sub_bits` bits.
  auto exponent = std::bit_width(us) - 1; // >= exact_bits
  auto shift = exponent - sub_bits;
  auto mantissa = (us >> shift) - (uint64_t{1} << sub_bits);
  return static_cast<size_t>(
    exact_limit + uint64_t(exponent - exact_bits) * (1u << sub_bits)
    + mantissa);
}

uint64_t latency_histogram::highest_in(size_t bucket) noexcept {
  if (bucket < exact_limit)
    return bucket;
  auto rest = bucket - exact_limit;
  auto exponent = exact_bits + static_cast<int>(rest >> sub_bits);
  auto mantissa = (rest & ((1u << sub_bits) - 1)) + (uint64_t{1} << sub_bits);
  auto shift = exponent - sub_bits;
  return ((mantissa + 1) << shift) - 1;
}

void latency_histogram::record(std::chrono::nanoseconds latency) noexcept {
  auto us = latency.count() <= 0
              ? uint64_t{0}
              : static_cast<uint64_t>(latency.count() / 1000);
  us = std::min(us, value_limit - 1);
  ++counts_[bucket_of(us)];
  ++count_;
  max_ = std::max(max_, us);
}

latency_histogram::duration
latency_histogram::percentile(double p) const noexcept {
  if (count_ == 0)
    return duration::zero();
  if (!(p > 0.0)) // also NaN
    p = 0.0;
  p = std::min(p, 100.0);
  // Nearest rank: the ceil(p% of n)-th smallest value, at least the first.
  auto rank
    = static_cast<uint64_t>(std::ceil(p * static_cast<double>(count_) / 100.0));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (size_t b = 0; b < bucket_count; ++b) {
    seen += counts_[b];
    if (seen >= rank)
      return duration{std::min(highest_in(b), max_)};
  }
  return duration{max_};
}

} // namespace istio_csr::csrctl
