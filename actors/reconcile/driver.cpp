#include "actors/reconcile/driver.hpp"

#include <algorithm>
#include <atomic>
#include <list>
#include <memory>
#include <optional>
#include <random>
#include <unordered_map>

#include "caf/actor_clock.hpp"
#include "caf/event_based_actor.hpp"

#include "metrics/controller.hpp"

namespace istio_csr::actors::reconcile {

namespace {

std::atomic<uint64_t> next_driver_id{1};

} // namespace

struct driver::impl : std::enable_shared_from_this<driver::impl> {
  using time_point = caf::actor_clock::time_point;

  struct key_state {
    enum class phase { idle, queued, running, waiting };
    phase ph = phase::idle;
    /// Triggered while running: run once more afterwards.
    bool dirty = false;
    /// While waiting: for a retry after a failure (else for a requeue).
    bool retry = false;
    /// The next run follows a conflict.
    bool after_conflict = false;
    size_t failures = 0;
    size_t conflicts = 0;
    /// Identifies the current run or wait: each one takes a new token, so
    /// a timer or completion of an earlier one finds a mismatch.
    uint64_t token = 0;
    time_point started;
    /// When it was last queued (the workqueue's queue duration).
    time_point queued_at;
    /// Its entry in the metrics' running work.
    uint64_t work_id = 0;
  };

  static double seconds(caf::timespan d) {
    return std::chrono::duration<double>(d).count();
  }

  impl(caf::event_based_actor* self, reconciler fn, options opts, hooks h)
    : self(self), fn(std::move(fn)), opts(std::move(opts)), h(std::move(h)),
      id(next_driver_id++) {
    this->opts.max_concurrent_reconciles
      = std::max<size_t>(this->opts.max_concurrent_reconciles, 1);
    if (!this->opts.controller.empty()) {
      m = metrics::controller(this->opts.controller);
      m->max_concurrent_reconciles.set(
        static_cast<double>(this->opts.max_concurrent_reconciles));
    }
  }

  ~impl() {
    // The actor went with work queued or running: give the gauges back.
    if (!m)
      return;
    m->depth.dec(static_cast<double>(queue.size()));
    m->active_workers.dec(static_cast<double>(active));
    for (const auto& [key, k] : keys)
      if (k.ph == key_state::phase::running)
        m->running->finish(k.work_id);
  }

  caf::event_based_actor* self;
  reconciler fn;
  options opts;
  hooks h;
  uint64_t id;
  /// The backoff's jitter, made on the first backoff: its 2.5 KB of state
  /// would otherwise be paid by every driver, and a cluster has one per
  /// namespace (the configmap actors).
  std::unique_ptr<std::mt19937_64> rng;
  std::unordered_map<std::string, key_state> keys;
  /// A list, not a deque: an empty deque already holds a 512-byte block.
  std::list<std::string> queue;
  size_t active = 0;
  bool dispatching = false;
  counters stats;
  std::optional<metrics::controller_handles> m;

  std::mt19937_64& random() {
    if (!rng)
      rng = std::make_unique<std::mt19937_64>(std::random_device{}());
    return *rng;
  }

  void trigger(const std::string& key) {
    ++stats.triggers;
    auto& k = keys[key];
    switch (k.ph) {
      case key_state::phase::idle: enqueue(key, k); break;
      case key_state::phase::queued: ++stats.coalesced; return;
      case key_state::phase::running:
        k.dirty = true;
        ++stats.coalesced;
        return;
      case key_state::phase::waiting:
        if (k.retry && opts.triggers_wait_for_retry) {
          ++stats.coalesced;
          return;
        }
        if (k.retry)
          --stats.waiting_retry;
        enqueue(key, k); // its timer goes stale
        break;
    }
    dispatch();
  }

  void enqueue(const std::string& key, key_state& k) {
    k.ph = key_state::phase::queued;
    k.queued_at = self->clock().now();
    queue.push_back(key);
    if (m) {
      m->adds.inc();
      m->depth.inc();
    }
  }

  /// Runs queued keys while workers are free. Not re-entered: a run that
  /// completes at once returns here instead of recursing.
  void dispatch() {
    if (dispatching)
      return;
    dispatching = true;
    while (active < opts.max_concurrent_reconciles && !queue.empty()) {
      auto key = std::move(queue.front());
      queue.pop_front();
      if (m) {
        m->depth.dec();
        m->queue_duration.observe(
          seconds(self->clock().now() - keys[key].queued_at));
      }
      run(key);
    }
    dispatching = false;
  }

  void run(const std::string& key) {
    auto& k = keys[key];
    k.ph = key_state::phase::running;
    k.started = self->clock().now();
    auto token = ++k.token;
    ++active;
    if (m) {
      m->active_workers.inc();
      k.work_id = m->running->start();
    }
    request req{key, k.after_conflict, k.failures};
    k.after_conflict = false;
    // The reconciler may complete (and change `keys`) before returning.
    fn(req, [weak = weak_from_this(), key, token](result r) {
      if (auto ptr = weak.lock())
        ptr->complete(key, token, std::move(r));
    });
  }

  void complete(const std::string& key, uint64_t token, result r) {
    auto i = keys.find(key);
    if (i == keys.end() || i->second.ph != key_state::phase::running
        || i->second.token != token)
      return; // a second call, or stale
    auto& k = i->second;
    auto elapsed = self->clock().now() - k.started;
    stats.time_total += elapsed;
    stats.time_max = std::max(stats.time_max, elapsed);
    --active;
    if (m)
      count(k, r, elapsed);
    switch (r.type) {
      case result::kind::done:
        ++stats.done;
        k.failures = 0;
        k.conflicts = 0;
        settle(key, k);
        break;
      case result::kind::requeue_after:
        ++stats.requeue_after;
        k.failures = 0;
        k.conflicts = 0;
        if (k.dirty || r.delay <= caf::timespan::zero())
          settle(key, k, true);
        else
          wait(key, k, r.delay, false);
        break;
      case result::kind::conflict:
        ++stats.conflict;
        if (++k.conflicts <= opts.max_conflict_retries) {
          ++stats.conflict_retries;
          if (m) {
            // A rate-limited add that skips the queue.
            m->retries.inc();
            m->adds.inc();
          }
          if (h.on_conflict_retry)
            h.on_conflict_retry(key, r);
          // The fresh read covers every trigger so far.
          k.dirty = false;
          k.after_conflict = true;
          run(key);
          return;
        }
        k.conflicts = 0;
        back_off(key, k, r);
        break;
      case result::kind::error:
        ++stats.error;
        k.conflicts = 0;
        back_off(key, k, r);
        break;
    }
    dispatch();
  }

  /// controller-runtime's result label and the workqueue's timings.
  void count(const key_state& k, const result& r, caf::timespan elapsed) {
    m->active_workers.dec();
    m->running->finish(k.work_id);
    m->reconcile_time.observe(seconds(elapsed));
    m->work_duration.observe(seconds(elapsed));
    switch (r.type) {
      case result::kind::done: m->reconcile_success.inc(); break;
      case result::kind::requeue_after:
        if (r.delay > caf::timespan::zero())
          m->reconcile_requeue_after.inc();
        else
          m->reconcile_requeue.inc();
        break;
      case result::kind::conflict:
      case result::kind::error:
        m->reconcile_error.inc();
        m->reconcile_errors.inc();
        break;
    }
  }

  /// The run is over: once more if triggered meanwhile (or `again`), else
  /// idle (and forgotten when clean).
  void settle(const std::string& key, key_state& k, bool again = false) {
    if (k.dirty || again) {
      k.dirty = false;
      enqueue(key, k);
      return;
    }
    k.ph = key_state::phase::idle;
    if (k.failures == 0 && k.conflicts == 0)
      keys.erase(key);
  }

  void back_off(const std::string& key, key_state& k, const result& r) {
    ++k.failures;
    auto delay = std::chrono::duration_cast<caf::timespan>(
      opts.backoff.delay(k.failures, random()));
    if (h.on_backoff)
      h.on_backoff(key, r, delay);
    if (m)
      m->retries.inc();
    // The retry covers every trigger so far.
    k.dirty = false;
    if (delay <= caf::timespan::zero()) {
      enqueue(key, k);
      return;
    }
    ++stats.waiting_retry;
    wait(key, k, delay, true);
  }

  void wait(const std::string& key, key_state& k, caf::timespan delay,
            bool retry) {
    k.ph = key_state::phase::waiting;
    k.retry = retry;
    auto token = ++k.token;
    self->delayed_send(self, delay, timer_atom::value, id, key, token);
  }

  bool handle_timer(uint64_t timer_id, const std::string& key, uint64_t token) {
    if (timer_id != id)
      return false;
    auto i = keys.find(key);
    if (i == keys.end() || i->second.ph != key_state::phase::waiting
        || i->second.token != token)
      return true; // cancelled
    auto& k = i->second;
    if (k.retry) {
      --stats.waiting_retry;
      ++stats.backoff_retries;
    }
    enqueue(key, k);
    dispatch();
    return true;
  }

  bool busy(const std::string& key) const {
    auto i = keys.find(key);
    if (i == keys.end())
      return false;
    switch (i->second.ph) {
      case key_state::phase::idle: return false;
      case key_state::phase::queued:
      case key_state::phase::running: return true;
      case key_state::phase::waiting: return i->second.retry;
    }
    return false;
  }
};

void driver::timer_clause::operator()(timer_atom, uint64_t id,
                                      const std::string& key,
                                      uint64_t token) const {
  if (auto ptr = ptr_.lock())
    ptr->handle_timer(id, key, token);
}

driver::driver(caf::event_based_actor* self, reconciler fn, options opts,
               hooks h)
  : impl_(std::make_shared<impl>(self, std::move(fn), std::move(opts),
                                 std::move(h))) {
  // nop
}

driver::driver(driver&&) noexcept = default;

driver& driver::operator=(driver&&) noexcept = default;

driver::~driver() = default;

void driver::trigger(const std::string& key) {
  impl_->trigger(key);
}

bool driver::busy(const std::string& key) const {
  return impl_->busy(key);
}

counters driver::stats() const {
  auto result = impl_->stats;
  result.queue_depth = impl_->queue.size();
  result.active_workers = impl_->active;
  result.max_concurrent_reconciles = impl_->opts.max_concurrent_reconciles;
  return result;
}

bool driver::handle_timer(uint64_t id, const std::string& key, uint64_t token) {
  return impl_->handle_timer(id, key, token);
}

driver::timer_clause driver::timers() const {
  return timer_clause{impl_};
}

uint64_t driver::id() const noexcept {
  return impl_->id;
}

} // namespace istio_csr::actors::reconcile
