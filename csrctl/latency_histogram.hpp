#pragma once

#include <array>
#include <chrono>
#include <cstdint>

namespace istio_csr::csrctl {

/// Latencies of a load run in fixed memory, whatever its length: counts per
/// bucket, exact below 512 µs and within 1/256 (0.4 %) above, up to about
/// 12 days (longer values count as that). Percentiles are nearest-rank and
/// never under-report: the highest value of the bucket, at most the
/// largest value recorded.
class latency_histogram {
 public:
  using duration = std::chrono::microseconds;

  /// Records one latency (negative values count as 0).
  void record(std::chrono::nanoseconds latency) noexcept;

  /// How many latencies were recorded.
  uint64_t count() const noexcept {
    return count_;
  }

  /// The largest latency recorded (0 when none).
  duration max() const noexcept {
    return duration{max_};
  }

  /// The smallest value such that at least `p` percent of the recorded
  /// latencies are at most it (`p` in (0, 100], clamped); 0 when none.
  duration percentile(double p) const noexcept;

  /// Buckets: 512 exact ones, then 256 per power of two from 2^9 to 2^40.
  static constexpr int exact_bits = 9;
  static constexpr int sub_bits = 8;
  static constexpr int max_bits = 40;
  static constexpr size_t bucket_count
    = (size_t{1} << exact_bits)
      + size_t(max_bits - exact_bits) * (size_t{1} << sub_bits);

 private:
  static size_t bucket_of(uint64_t us) noexcept;
  static uint64_t highest_in(size_t bucket) noexcept;

  std::array<uint64_t, bucket_count> counts_{};
  uint64_t count_ = 0;
  uint64_t max_ = 0;
};

} // namespace istio_csr::csrctl
