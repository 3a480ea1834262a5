#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "caf/atom.hpp"
#include "caf/fwd.hpp"
#include "caf/timespan.hpp"

#include "actors/reconcile/result.hpp"
#include "retry/backoff.hpp"

namespace istio_csr::actors::reconcile {

/// A driver's timer message to its own actor:
/// `(timer_atom, driver id, key, token)`.
using timer_atom = caf::atom_constant<caf::atom("rc_timer")>;

/// What a reconciler is asked to do.
struct request {
  /// The key to reconcile (e.g. a namespace, `namespace/name`).
  std::string key;
  /// The previous run of this key ended in a conflict: read the object
  /// from the API server, not from a cache that may lag behind the state
  /// that conflicted.
  bool after_conflict = false;
  /// Failures in a row before this run (reset by a `done` or
  /// `requeue_after` result).
  size_t failures = 0;
};

/// Ends one run. Call it exactly once, from the actor's thread (in the
/// reconciler or in a response handler); later calls are ignored.
using completion = std::function<void(result)>;

/// Reconciles one key: brings the world in line with what is wanted, then
/// calls `done` with how it went. Runs in the driver's actor; may complete
/// at once or after asynchronous requests.
using reconciler = std::function<void(const request& req, completion done)>;

/// How a driver runs.
struct options {
  /// Delay of retry n after n failures in a row (an `error` result, or a
  /// conflict beyond `max_conflict_retries`); reset by `done` and
  /// `requeue_after`.
  retry::backoff backoff;
  /// Conflicts in a row retried at once before backing off.
  size_t max_conflict_retries = 5;
  /// Keys reconciled at the same time (0 counts as 1). A key is never
  /// reconciled twice at once.
  size_t max_concurrent_reconciles = 1;
  /// Triggers of a key waiting for its backoff: false (controller-runtime)
  /// runs it at once; true lets them join the scheduled retry.
  bool triggers_wait_for_retry = false;
  /// The controller name of its metrics: controller-runtime's
  /// `controller_runtime_*{controller}` and the workqueue's `workqueue_*{name}`
  /// (metrics/controller.hpp); empty: none. Drivers with the same name share
  /// the series.
  std::string controller;
};

/// The controller's voice: the driver itself never logs.
struct hooks {
  /// A conflict is retried at once on fresh state.
  std::function<void(const std::string& key, const result& r)>
    on_conflict_retry;
  /// A failure (an error, or one conflict too many) is retried after
  /// `delay`.
  std::function<void(const std::string& key, const result& r,
                     caf::timespan delay)>
    on_backoff;
};

/// Plain counters for a metrics exporter (controller-runtime's
/// `controller_runtime_reconcile_*` and workqueue metrics).
struct counters {
  /// Completed reconciles by result.
  uint64_t done = 0;
  uint64_t requeue_after = 0;
  uint64_t conflict = 0;
  uint64_t error = 0;
  /// Runs retried at once after a conflict, and after a backoff.
  uint64_t conflict_retries = 0;
  uint64_t backoff_retries = 0;
  /// Triggers, and those that joined a queued, running or retrying key.
  uint64_t triggers = 0;
  uint64_t coalesced = 0;
  /// Time in reconciles (start to completion, on the actor clock).
  caf::timespan time_total{0};
  caf::timespan time_max{0};
  /// Gauges: keys waiting for a worker, reconciles running, keys waiting
  /// for a retry after a backoff.
  size_t queue_depth = 0;
  size_t active_workers = 0;
  size_t waiting_retry = 0;
  size_t max_concurrent_reconciles = 0;

  /// Completed reconciles.
  uint64_t total() const noexcept {
    return done + requeue_after + conflict + error;
  }

  /// Reconciles that failed (conflicts included, as controller-runtime).
  uint64_t errors() const noexcept {
    return conflict + error;
  }
};

/// The reconcile loop of one controller actor, after controller-runtime's
/// controller and workqueue: the actor says which keys changed
/// (`trigger`), the driver decides when each key's reconciler runs.
///
/// - A free worker runs a triggered key at once; with all
///   `max_concurrent_reconciles` busy it queues (in order, once).
/// - A key never runs twice at once: triggers during its run make one
///   more run afterwards (coalescing).
/// - `done` ends the run; `requeue_after(d)` runs it again after `d`
///   unless triggered earlier; `conflict` runs it again at once with
///   `after_conflict` (up to `max_conflict_retries` in a row), then counts
///   as an error; `error` runs it again after `backoff` (attempt = failures
///   in a row). A trigger cancels a pending requeue and, unless
///   `triggers_wait_for_retry`, a pending retry.
///
/// Lives in the actor's state; everything happens on the actor's thread.
/// Timers are messages to the actor: put `timers()` into its
/// behaviour (an actor with several drivers routes `timer_atom` messages
/// to each driver's `handle_timer`).
class driver {
 public:
  struct impl;

  /// The behaviour clause for the driver's timers.
  class timer_clause {
   public:
    explicit timer_clause(std::weak_ptr<impl> ptr) : ptr_(std::move(ptr)) {
      // nop
    }

    void operator()(timer_atom, uint64_t id, const std::string& key,
                    uint64_t token) const;

   private:
    std::weak_ptr<impl> ptr_;
  };

  driver(caf::event_based_actor* self, reconciler fn, options opts = {},
         hooks h = {});

  driver(driver&&) noexcept;

  driver& operator=(driver&&) noexcept;

  driver(const driver&) = delete;

  driver& operator=(const driver&) = delete;

  ~driver();

  /// `key` changed: reconcile it (now, or once more after its running
  /// reconcile, or when a worker is free).
  void trigger(const std::string& key);

  /// Whether `key` is queued, running, or waiting for a retry after a
  /// failure (not: waiting for a requeue).
  bool busy(const std::string& key) const;

  /// The counters, gauges included.
  counters stats() const;

  /// Handles `(timer_atom, id, key, token)`; false when `id` is another
  /// driver's.
  bool handle_timer(uint64_t id, const std::string& key, uint64_t token);

  /// Clause for the actor's behaviour that passes `timer_atom` messages to
  /// this driver.
  timer_clause timers() const;

  /// Identifies this driver's timers.
  uint64_t id() const noexcept;

 private:
  std::shared_ptr<impl> impl_;
};

} // namespace istio_csr::actors::reconcile
