#include "metrics/handles.hpp"

#include <utility>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

namespace istio_csr::metrics {

void counter::inc(double v) const {
  if (c_ != nullptr)
    c_->Increment(v);
}

double counter::value() const {
  return c_ != nullptr ? c_->Value() : 0.0;
}

void gauge::set(double v) const {
  if (g_ != nullptr)
    g_->Set(v);
}

void gauge::inc(double v) const {
  if (g_ != nullptr)
    g_->Increment(v);
}

void gauge::dec(double v) const {
  if (g_ != nullptr)
    g_->Decrement(v);
}

double gauge::value() const {
  return g_ != nullptr ? g_->Value() : 0.0;
}

void histogram::observe(double v) const {
  if (h_ != nullptr)
    h_->Observe(v);
}

std::uint64_t histogram::count() const {
  if (h_ == nullptr)
    return 0;
  return h_->Collect().histogram.sample_count;
}

gauge_hold::gauge_hold(gauge g) : g_(g), held_(true) {
  g_.inc();
}

gauge_hold::gauge_hold(gauge_hold&& other) noexcept
  : g_(other.g_), held_(std::exchange(other.held_, false)) {}

gauge_hold& gauge_hold::operator=(gauge_hold&& other) noexcept {
  if (this != &other) {
    release();
    g_ = other.g_;
    held_ = std::exchange(other.held_, false);
  }
  return *this;
}

gauge_hold::~gauge_hold() {
  release();
}

void gauge_hold::release() {
  if (std::exchange(held_, false))
    g_.dec();
}

} // namespace istio_csr::metrics
