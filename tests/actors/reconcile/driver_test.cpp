// The reconcile driver on CAF's deterministic scheduler and virtual clock:
// coalescing per key, the bound on concurrent reconciles, requeue-after,
// conflicts retried at once then backed off, exponential error backoff,
// triggers during a backoff, synchronous reconcilers, and the counters.

#define CAF_SUITE actors.reconcile_driver

#include "caf/test/dsl.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/reconcile/driver.hpp"
#include "actors/system/system_config.hpp"
#include "metrics/controller.hpp"

using namespace std::chrono_literals;
using namespace istio_csr::actors;
using reconcile::result;

namespace {

using trigger_atom = caf::atom_constant<caf::atom("t_trigger")>;
using finish_atom = caf::atom_constant<caf::atom("t_finish")>;

/// What the reconciler saw and what it still has to answer.
struct probe {
  std::vector<reconcile::request> runs;
  std::map<std::string, reconcile::completion> pending;
  /// When set, the reconciler answers at once with the next of these.
  std::vector<result> immediate;
  std::vector<std::string> hooks;
  std::vector<caf::timespan> backoffs;
  /// Frame address of each reconciler call (stack depth).
  std::vector<uintptr_t> frames;

  std::vector<std::string> keys() const {
    std::vector<std::string> result;
    for (auto& r : runs)
      result.push_back(r.key);
    return result;
  }
};

struct host_state {
  std::optional<reconcile::driver> loop;
  static inline const char* name = "reconcile-host";
};

using host_actor = caf::stateful_actor<host_state>;

caf::behavior host(host_actor* self, std::shared_ptr<probe> p,
                   reconcile::options opts) {
  reconcile::hooks h;
  h.on_conflict_retry = [p](const std::string& key, const result& r) {
    p->hooks.push_back("conflict " + key + " " + r.step);
  };
  h.on_backoff
    = [p](const std::string& key, const result& r, caf::timespan delay) {
        p->hooks.push_back("backoff " + key + " " + r.step);
        p->backoffs.push_back(delay);
      };
  self->state.loop.emplace(
    self,
    [p](const reconcile::request& req, reconcile::completion done) {
      p->runs.push_back(req);
      p->frames.push_back(
        reinterpret_cast<uintptr_t>(__builtin_frame_address(0)));
      if (!p->immediate.empty()) {
        auto r = p->immediate.front();
        p->immediate.erase(p->immediate.begin());
        done(std::move(r));
        return;
      }
      p->pending[req.key] = std::move(done);
    },
    std::move(opts), std::move(h));
  return {
    [self](trigger_atom, const std::string& key) {
      self->state.loop->trigger(key);
    },
    // kind: 0 done, 1 requeue_after(delay), 2 conflict, 3 error.
    [p](finish_atom, const std::string& key, int kind, caf::timespan delay) {
      auto i = p->pending.find(key);
      if (i == p->pending.end())
        CAF_FAIL("no pending reconcile of " << key);
      auto done = std::move(i->second);
      p->pending.erase(i);
      switch (kind) {
        case 0: done(result::done()); break;
        case 1: done(result::requeue_after(delay)); break;
        case 2:
          done(result::conflict(caf::sec::runtime_error, "update"));
          break;
        default: done(result::error(caf::sec::runtime_error, "get")); break;
      }
    },
    self->state.loop->timers(),
  };
}

struct fixture : test_coordinator_fixture<system_config> {
  std::shared_ptr<probe> p = std::make_shared<probe>();
  caf::actor hdl;

  void start(reconcile::options opts = {}) {
    hdl = sys.spawn(host, p, std::move(opts));
    sched.run();
  }

  ~fixture() override {
    anon_send_exit(hdl, caf::exit_reason::user_shutdown);
    sched.run();
  }

  void trigger(const std::string& key) {
    caf::anon_send(hdl, trigger_atom::value, key);
    sched.run();
  }

  void finish(const std::string& key, int kind, caf::timespan delay = {}) {
    caf::anon_send(hdl, finish_atom::value, key, kind, delay);
    sched.run();
  }

  void done(const std::string& key) {
    finish(key, 0);
  }

  void requeue(const std::string& key, caf::timespan delay) {
    finish(key, 1, delay);
  }

  void conflict(const std::string& key) {
    finish(key, 2);
  }

  void error(const std::string& key) {
    finish(key, 3);
  }

  /// Advances the virtual clock and runs what became due.
  void advance(caf::timespan d) {
    advance_time(d);
    sched.run();
  }

  reconcile::driver& loop() {
    return *deref<host_actor>(hdl).state.loop;
  }

  size_t runs() const {
    return p->runs.size();
  }

  const reconcile::request& last() const {
    return p->runs.back();
  }
};

reconcile::options backoff_opts() {
  reconcile::options opts;
  opts.backoff.initial = 100ms;
  opts.backoff.max = 1s;
  return opts;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(reconcile_driver_tests, fixture)

CAF_TEST(triggers during a run coalesce into one more run) {
  start();
  trigger("a");
  CAF_CHECK_EQUAL(runs(), 1u);
  CAF_CHECK(loop().busy("a"));
  for (int i = 0; i < 3; ++i)
    trigger("a");
  // Never twice at once, even with a free worker.
  CAF_CHECK_EQUAL(runs(), 1u);
  done("a");
  CAF_CHECK_EQUAL(runs(), 2u);
  CAF_CHECK(!last().after_conflict);
  done("a");
  CAF_CHECK_EQUAL(runs(), 2u);
  CAF_CHECK(!loop().busy("a"));
  auto st = loop().stats();
  CAF_CHECK_EQUAL(st.triggers, 4u);
  CAF_CHECK_EQUAL(st.coalesced, 3u);
  CAF_CHECK_EQUAL(st.done, 2u);
  CAF_CHECK_EQUAL(st.active_workers, 0u);
  // Idle again: the next trigger runs at once.
  trigger("a");
  CAF_CHECK_EQUAL(runs(), 3u);
}

CAF_TEST(keys run in parallel up to the bound and queue once beyond it) {
  auto opts = reconcile::options{};
  opts.max_concurrent_reconciles = 2;
  start(opts);
  trigger("a");
  trigger("b");
  trigger("c");
  trigger("c");
  CAF_CHECK_EQUAL(p->keys(), (std::vector<std::string>{"a", "b"}));
  auto st = loop().stats();
  CAF_CHECK_EQUAL(st.active_workers, 2u);
  CAF_CHECK_EQUAL(st.queue_depth, 1u);
  CAF_CHECK_EQUAL(st.max_concurrent_reconciles, 2u);
  CAF_CHECK(loop().busy("c"));
  // A trigger of a running key waits for its run; a freed worker takes
  // the queue in order.
  trigger("a");
  done("b");
  CAF_CHECK_EQUAL(p->keys(), (std::vector<std::string>{"a", "b", "c"}));
  done("a");
  CAF_CHECK_EQUAL(p->keys(), (std::vector<std::string>{"a", "b", "c", "a"}));
  CAF_CHECK_EQUAL(loop().stats().queue_depth, 0u);
  done("a");
  done("c");
  CAF_CHECK_EQUAL(runs(), 4u);
  CAF_CHECK_EQUAL(loop().stats().active_workers, 0u);
}

CAF_TEST(requeue after runs the key again after the delay) {
  start();
  trigger("a");
  requeue("a", 5s);
  CAF_CHECK(!loop().busy("a"));
  advance(5s - 1ms);
  CAF_CHECK_EQUAL(runs(), 1u);
  advance(1ms);
  CAF_CHECK_EQUAL(runs(), 2u);
  // A trigger before the delay runs at once and replaces the requeue: the
  // first timer goes stale, the second one counts.
  requeue("a", 5s);
  advance(1s);
  trigger("a");
  CAF_CHECK_EQUAL(runs(), 3u);
  requeue("a", 5s);
  advance(4s);
  CAF_CHECK_EQUAL(runs(), 3u);
  advance(1s);
  CAF_CHECK_EQUAL(runs(), 4u);
  done("a");
  advance(10s);
  CAF_CHECK_EQUAL(runs(), 4u);
  CAF_CHECK_EQUAL(loop().stats().requeue_after, 3u);
}

CAF_TEST(a requeue with triggers pending runs at once) {
  start();
  trigger("a");
  trigger("a");
  requeue("a", 5s);
  CAF_CHECK_EQUAL(runs(), 2u);
  done("a");
  advance(10s);
  CAF_CHECK_EQUAL(runs(), 2u);
}

CAF_TEST(conflicts retry at once on fresh state then back off) {
  auto opts = backoff_opts();
  opts.max_conflict_retries = 2;
  start(opts);
  trigger("a");
  conflict("a");
  CAF_CHECK_EQUAL(runs(), 2u);
  CAF_CHECK(last().after_conflict);
  // A trigger before the fresh read is covered by it.
  trigger("a");
  conflict("a");
  CAF_CHECK_EQUAL(runs(), 3u);
  CAF_CHECK(last().after_conflict);
  // The third in a row counts as a failure.
  conflict("a");
  CAF_CHECK_EQUAL(runs(), 3u);
  CAF_CHECK(loop().busy("a"));
  CAF_CHECK_EQUAL(p->hooks, (std::vector<std::string>{"conflict a update",
                                                      "conflict a update",
                                                      "backoff a update"}));
  CAF_CHECK_EQUAL(p->backoffs, (std::vector<caf::timespan>{100ms}));
  advance(99ms);
  CAF_CHECK_EQUAL(runs(), 3u);
  advance(1ms);
  CAF_CHECK_EQUAL(runs(), 4u);
  CAF_CHECK(!last().after_conflict);
  CAF_CHECK_EQUAL(last().failures, 1u);
  // The conflict count restarted with the backoff: two more at once.
  conflict("a");
  conflict("a");
  CAF_CHECK_EQUAL(runs(), 6u);
  done("a");
  CAF_CHECK_EQUAL(runs(), 6u);
  auto st = loop().stats();
  CAF_CHECK_EQUAL(st.conflict, 5u);
  CAF_CHECK_EQUAL(st.conflict_retries, 4u);
  CAF_CHECK_EQUAL(st.backoff_retries, 1u);
  CAF_CHECK_EQUAL(st.errors(), 5u);
  CAF_CHECK_EQUAL(st.done, 1u);
}

CAF_TEST(errors back off exponentially up to the cap and success resets) {
  start(backoff_opts());
  trigger("a");
  std::vector<caf::timespan> expected{100ms, 200ms, 400ms, 800ms, 1s, 1s};
  for (auto delay : expected) {
    auto before = runs();
    error("a");
    CAF_CHECK(loop().busy("a"));
    CAF_CHECK_EQUAL(loop().stats().waiting_retry, 1u);
    advance(delay - 1ms);
    CAF_CHECK_EQUAL(runs(), before);
    advance(1ms);
    CAF_CHECK_EQUAL(runs(), before + 1);
    CAF_CHECK_EQUAL(loop().stats().waiting_retry, 0u);
  }
  CAF_CHECK_EQUAL(p->backoffs, expected);
  CAF_CHECK_EQUAL(last().failures, 6u);
  done("a");
  trigger("a");
  CAF_CHECK_EQUAL(last().failures, 0u);
  error("a");
  CAF_CHECK_EQUAL(p->backoffs.back(), caf::timespan{100ms});
  auto st = loop().stats();
  CAF_CHECK_EQUAL(st.error, 7u);
  CAF_CHECK_EQUAL(st.backoff_retries, 6u);
}

CAF_TEST(a trigger during a backoff runs at once and keeps the failure count) {
  start(backoff_opts());
  trigger("a");
  error("a");
  advance(50ms);
  trigger("a");
  CAF_CHECK_EQUAL(runs(), 2u);
  CAF_CHECK_EQUAL(last().failures, 1u);
  CAF_CHECK_EQUAL(loop().stats().waiting_retry, 0u);
  // The cancelled timer does nothing.
  advance(1s);
  CAF_CHECK_EQUAL(runs(), 2u);
  error("a");
  CAF_CHECK_EQUAL(p->backoffs, (std::vector<caf::timespan>{100ms, 200ms}));
}

CAF_TEST(triggers may wait for the scheduled retry instead) {
  auto opts = backoff_opts();
  opts.triggers_wait_for_retry = true;
  start(opts);
  trigger("a");
  error("a");
  trigger("a");
  trigger("a");
  CAF_CHECK_EQUAL(runs(), 1u);
  CAF_CHECK(loop().busy("a"));
  advance(100ms);
  CAF_CHECK_EQUAL(runs(), 2u);
  done("a");
  // The triggers joined that retry: nothing more.
  CAF_CHECK_EQUAL(runs(), 2u);
  CAF_CHECK(!loop().busy("a"));
}

CAF_TEST(a reconciler may complete at once) {
  auto opts = backoff_opts();
  opts.max_conflict_retries = 3;
  start(opts);
  p->immediate
    = {result::conflict(caf::sec::runtime_error, "create"),
       result::conflict(caf::sec::runtime_error, "create"), result::done()};
  trigger("a");
  CAF_CHECK_EQUAL(runs(), 3u);
  CAF_CHECK(!loop().busy("a"));
  // A thousand keys queued behind a running one, each done at once: the
  // freed worker runs them one after the other, without recursion.
  trigger("first");
  for (int i = 0; i < 1000; ++i)
    trigger("k" + std::to_string(i));
  CAF_CHECK_EQUAL(loop().stats().queue_depth, 1000u);
  for (int i = 0; i < 1000; ++i)
    p->immediate.push_back(result::done());
  done("first");
  CAF_CHECK_EQUAL(runs(), 1004u);
  CAF_CHECK_EQUAL(loop().stats().queue_depth, 0u);
  // All at the same stack depth: 1000 nested runs would take far more.
  auto [low, high]
    = std::minmax_element(p->frames.end() - 1000, p->frames.end());
  CAF_CHECK_LESS(*high - *low, 16u * 1024u);
  CAF_CHECK_EQUAL(loop().stats().done, 1002u);
}

CAF_TEST(reconcile time is measured on the actor clock) {
  start();
  trigger("a");
  advance(3s);
  done("a");
  trigger("a");
  advance(1s);
  done("a");
  auto st = loop().stats();
  CAF_CHECK_EQUAL(st.time_total, caf::timespan{4s});
  CAF_CHECK_EQUAL(st.time_max, caf::timespan{3s});
  CAF_CHECK_EQUAL(st.total(), 2u);
}

CAF_TEST(a second completion of the same run is ignored) {
  start();
  trigger("a");
  auto done_fn = p->pending["a"];
  done("a");
  done_fn(result::error(caf::sec::runtime_error, "late"));
  sched.run();
  auto st = loop().stats();
  CAF_CHECK_EQUAL(st.done, 1u);
  CAF_CHECK_EQUAL(st.error, 0u);
  CAF_CHECK(!loop().busy("a"));
}

CAF_TEST(a named driver feeds controller runtime and workqueue metrics) {
  auto opts = backoff_opts();
  opts.controller = "driver-test";
  opts.max_concurrent_reconciles = 2;
  start(opts);
  auto m = istio_csr::metrics::controller("driver-test");
  CAF_CHECK_EQUAL(m.max_concurrent_reconciles.value(), 2.0);
  trigger("a");
  trigger("b");
  trigger("c"); // waits for a worker
  CAF_CHECK_EQUAL(m.adds.value(), 3.0);
  CAF_CHECK_EQUAL(m.active_workers.value(), 2.0);
  CAF_CHECK_EQUAL(m.depth.value(), 1.0);
  CAF_CHECK_EQUAL(m.running->seconds().first >= 0.0, true);
  advance(50ms);
  done("a"); // c runs
  CAF_CHECK_EQUAL(m.depth.value(), 0.0);
  CAF_CHECK_EQUAL(m.queue_duration.count(), 3u);
  error("b"); // retried after a backoff
  requeue("c", 10s);
  CAF_CHECK_EQUAL(m.reconcile_success.value(), 1.0);
  CAF_CHECK_EQUAL(m.reconcile_error.value(), 1.0);
  CAF_CHECK_EQUAL(m.reconcile_errors.value(), 1.0);
  CAF_CHECK_EQUAL(m.reconcile_requeue_after.value(), 1.0);
  CAF_CHECK_EQUAL(m.retries.value(), 1.0);
  CAF_CHECK_EQUAL(m.reconcile_time.count(), 3u);
  CAF_CHECK_EQUAL(m.work_duration.count(), 3u);
  CAF_CHECK_EQUAL(m.active_workers.value(), 0.0);
  // The backoff's retry is one more add; its run ends in a conflict
  // retried at once (a retry and an add without the queue).
  advance(1s);
  CAF_CHECK_EQUAL(m.active_workers.value(), 1.0);
  conflict("b");
  CAF_CHECK_EQUAL(m.reconcile_error.value(), 2.0);
  CAF_CHECK_EQUAL(m.retries.value(), 2.0);
  done("b");
  CAF_CHECK_EQUAL(m.reconcile_success.value(), 2.0);
  CAF_CHECK_EQUAL(m.active_workers.value(), 0.0);
  CAF_CHECK_EQUAL(m.running->seconds().first, 0.0);
  // A driver that goes with work queued and running gives its gauges back.
  trigger("x");
  trigger("y");
  trigger("z");
  CAF_CHECK_EQUAL(m.depth.value(), 1.0);
  anon_send_exit(hdl, caf::exit_reason::kill);
  sched.run();
  CAF_CHECK_EQUAL(m.depth.value(), 0.0);
  CAF_CHECK_EQUAL(m.active_workers.value(), 0.0);
}

CAF_TEST_FIXTURE_SCOPE_END()
