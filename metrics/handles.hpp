#pragma once

#include <cstdint>

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
} // namespace prometheus

namespace istio_csr::metrics {

/// One counter series, resolved once (no label lookup when counting).
/// Thread-safe; a default-constructed handle counts nothing.
class counter {
 public:
  counter() = default;
  explicit counter(prometheus::Counter* c) noexcept : c_(c) {}

  /// Adds `v` (>= 0).
  void inc(double v = 1.0) const;

  /// The current value (tests).
  double value() const;

 private:
  prometheus::Counter* c_ = nullptr;
};

/// One gauge series, resolved once. Thread-safe.
class gauge {
 public:
  gauge() = default;
  explicit gauge(prometheus::Gauge* g) noexcept : g_(g) {}

  void set(double v) const;
  void inc(double v = 1.0) const;
  void dec(double v = 1.0) const;

  /// The current value (tests).
  double value() const;

 private:
  prometheus::Gauge* g_ = nullptr;
};

/// One histogram series, resolved once. Thread-safe.
class histogram {
 public:
  histogram() = default;
  explicit histogram(prometheus::Histogram* h) noexcept : h_(h) {}

  /// Records one observation (seconds, bytes, ...).
  void observe(double v) const;

  /// Observations so far (tests).
  std::uint64_t count() const;

 private:
  prometheus::Histogram* h_ = nullptr;
};

/// Holds one unit of a gauge while it lives (requests in flight, objects
/// waiting): +1 when made, -1 when destroyed, so the gauge stays right
/// whichever way its owner ends (an actor's state destroyed by a crash
/// included). Movable, not copyable.
class gauge_hold {
 public:
  gauge_hold() = default;
  explicit gauge_hold(gauge g);
  gauge_hold(gauge_hold&& other) noexcept;
  gauge_hold& operator=(gauge_hold&& other) noexcept;
  gauge_hold(const gauge_hold&) = delete;
  gauge_hold& operator=(const gauge_hold&) = delete;
  ~gauge_hold();

  /// Gives the unit back now (idempotent).
  void release();

 private:
  gauge g_;
  bool held_ = false;
};

} // namespace istio_csr::metrics
