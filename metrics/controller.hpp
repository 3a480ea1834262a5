#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "metrics/handles.hpp"

namespace istio_csr::metrics {

/// Work in progress of one controller, for client-go's
/// `workqueue_unfinished_work_seconds` and
/// `workqueue_longest_running_processor_seconds`, which are computed at
/// each scrape from the start times of the reconciles still running.
/// Thread-safe.
class running_work {
 public:
  /// A reconcile started; the id ends it.
  std::uint64_t start();

  /// The reconcile `id` ended (unknown ids are ignored).
  void finish(std::uint64_t id);

  /// Sum of the running times, and the longest, in seconds, as of now.
  std::pair<double, double> seconds() const;

  struct impl;
  running_work();
  ~running_work();

 private:
  std::unique_ptr<impl> impl_;
};

/// controller-runtime's families (`controller_runtime_*{controller}`) and
/// client-go's workqueue families (`workqueue_*{name}`) for one controller;
/// the workqueue name is the controller name, as controller-runtime makes
/// it. Several drivers of one controller (a ConfigMap actor per
/// namespace) share the series.
struct controller_handles {
  /// `controller_runtime_reconcile_total{controller,result}`.
  counter reconcile_success;
  counter reconcile_error;
  counter reconcile_requeue;
  counter reconcile_requeue_after;
  /// `controller_runtime_reconcile_errors_total{controller}`.
  counter reconcile_errors;
  /// `controller_runtime_reconcile_time_seconds{controller}`.
  histogram reconcile_time;
  /// `controller_runtime_max_concurrent_reconciles{controller}`.
  gauge max_concurrent_reconciles;
  /// `controller_runtime_active_workers{controller}`.
  gauge active_workers;
  /// `workqueue_depth`, `workqueue_adds_total`, `workqueue_retries_total`,
  /// `workqueue_queue_duration_seconds`, `workqueue_work_duration_seconds`.
  gauge depth;
  counter adds;
  counter retries;
  histogram queue_duration;
  histogram work_duration;
  /// Feeds the two scrape-time workqueue gauges.
  std::shared_ptr<running_work> running;
};

/// The handles of controller `name` (made, and pre-initialised with zeros,
/// on first use; then a lookup under a lock: call it once per driver, not
/// per reconcile).
controller_handles controller(std::string_view name);

/// Updates the scrape-time workqueue gauges of every controller (called by
/// `scrape`).
void update_workqueue_gauges();

} // namespace istio_csr::metrics
