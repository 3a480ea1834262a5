// Chaos mode on CAF's deterministic scheduler: one kill per interval (a
// timer, no thread), reproducible victims for a seed, never the root,
// supervisors only when asked for, patterns, and intervals skipped while a
// look at the tree is under way.
#define CAF_SUITE actors.chaos

#include "tests/actors/supervisor/supervisor_fixture.hpp"

#include <algorithm>
#include <set>

#include "actors/chaos/chaos_monkey.hpp"
#include "metrics/istio_csr.hpp"
#include "tests/support/check_case.hpp"

using namespace istio_csr;
using namespace istio_csr::actors;
using namespace istio_csr::actors::chaos;
using namespace istio_csr::actors::test;
using namespace std::chrono_literals;

using strings = std::vector<std::string>;

namespace {

/// Restarts at once and never gives up: every tick finds its victims back.
supervisor_options tolerant(std::string name) {
  supervisor_options opts;
  opts.name = std::move(name);
  opts.max_restarts = 1'000'000;
  opts.backoff.initial = caf::timespan{0};
  opts.on_give_up = escalate;
  return opts;
}

/// root: a, b, c and "inner" (a supervisor of d, e).
std::vector<child_spec> tree_specs(std::shared_ptr<probe> p) {
  std::vector<child_spec> specs;
  for (auto name : {"a", "b", "c"})
    specs.push_back(worker_spec(name, p));
  specs.emplace_back("inner", [p](child_context& ctx) {
    auto sup = spawn_supervisor(ctx.system(), tolerant("inner"),
                                {worker_spec("d", p), worker_spec("e", p)});
    return sup ? sup->supervisor : caf::actor{};
  });
  return specs;
}

chaos_settings every(caf::timespan interval, uint64_t seed,
                     strings patterns = {}, bool supervisors = false) {
  chaos_settings s;
  s.interval = interval;
  s.seed = seed;
  s.filter.patterns = std::move(patterns);
  s.filter.include_supervisors = supervisors;
  return s;
}

struct chaos_fixture : fixture {
  /// Starts a fresh tree and a monkey over it.
  caf::actor start_chaos(chaos_settings s) {
    auto h = start(tolerant("root"), tree_specs(p));
    auto monkey = spawn_chaos_monkey(sys, h.supervisor, std::move(s));
    helpers.push_back(monkey);
    sched.run();
    return monkey;
  }

  chaos_stats stats(const caf::actor& monkey) {
    return value_of(ask<chaos_stats>(monkey, chaos_stats_atom::value));
  }

  /// Lets `n` intervals pass, one at a time.
  void ticks(caf::timespan interval, int n) {
    for (int i = 0; i < n; ++i) {
      advance_time(interval);
      sched.run();
    }
  }

  /// The victims of `n` intervals of a fresh tree and monkey.
  strings victims(chaos_settings s, int n) {
    auto interval = s.interval;
    auto monkey = start_chaos(std::move(s));
    ticks(interval, n);
    return stats(monkey).victims;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(chaos_tests, chaos_fixture)

CAF_TEST(one actor is killed per interval and restarted) {
  auto kills_a = metrics::ours().chaos_kills("a").value();
  auto monkey = start_chaos(every(100ms, 7));
  advance_time(99ms);
  sched.run();
  auto none = stats(monkey);
  CAF_CHECK_EQUAL(none.kills, 0u);
  advance_time(1ms);
  sched.run();
  auto s = stats(monkey);
  CAF_CHECK_EQUAL(s.ticks, 1u);
  CAF_CHECK_EQUAL(s.kills, 1u);
  CAF_REQUIRE_EQUAL(s.victims.size(), 1u);
  // The victim died and its supervisor started it again.
  auto name = s.victims[0].substr(s.victims[0].rfind('/') + 1);
  CAF_CHECK_EQUAL(spawns(name), 2);
  ticks(100ms, 9);
  s = stats(monkey);
  CAF_CHECK_EQUAL(s.ticks, 10u);
  CAF_CHECK_EQUAL(s.kills, 10u);
  CAF_CHECK_EQUAL(s.failures, 0u);
  int restarts = 0;
  for (auto child : {"a", "b", "c", "d", "e"})
    restarts += spawns(child) - 1;
  CAF_CHECK_EQUAL(restarts, 10);
  // istio_csr_chaos_kills_total{actor} counts them.
  auto killed_a = std::count(s.victims.begin(), s.victims.end(), "root/a");
  CAF_CHECK_EQUAL(metrics::ours().chaos_kills("a").value(),
                  kills_a + static_cast<double>(killed_a));
}

CAF_TEST(the same seed over the same tree kills the same actors) {
  auto first = victims(every(50ms, 42), 20);
  CAF_REQUIRE_EQUAL(first.size(), 20u);
  CAF_CHECK_EQUAL(victims(every(50ms, 42), 20), first);
  auto other = victims(every(50ms, 43), 20);
  CAF_CHECK_EQUAL(other.size(), 20u);
  CAF_CHECK_NOT_EQUAL(other, first);
  // Over 20 kills every worker was hit: the choice spreads.
  std::set<std::string> distinct(first.begin(), first.end());
  CAF_CHECK_EQUAL(distinct.size(), 5u);
}

CAF_TEST(never the root and supervisors only when included) {
  auto workers = victims(every(10ms, 1), 50);
  std::set<std::string> hit(workers.begin(), workers.end());
  CAF_CHECK_EQUAL(hit, std::set<std::string>({"root/a", "root/b", "root/c",
                                              "root/inner/d", "root/inner/e"}));
  auto all = victims(every(10ms, 1, {}, true), 50);
  std::set<std::string> hit_all(all.begin(), all.end());
  CAF_CHECK(hit_all.count("root/inner") == 1);
  CAF_CHECK(hit_all.count("root") == 0);
}

CAF_TEST(patterns choose the victims) {
  auto signers = victims(every(10ms, 3, {"root/inner/*"}), 20);
  CAF_REQUIRE_EQUAL(signers.size(), 20u);
  for (auto& v : signers)
    ICSR_CHECK_CASE(v == "root/inner/d" || v == "root/inner/e", v);
  auto by_name = victims(every(10ms, 3, {"b"}), 5);
  CAF_CHECK_EQUAL(by_name, strings(5, "root/b"));
  auto monkey = start_chaos(every(10ms, 3, {"nothing*"}));
  ticks(10ms, 5);
  auto s = stats(monkey);
  CAF_CHECK_EQUAL(s.kills, 0u);
  CAF_CHECK_EQUAL(s.idle, 5u);
}

CAF_TEST(actors at their supervisors limit are spared unless allowed) {
  for (bool allow : {false, true}) {
    give_ups.clear();
    auto opts = options(); // 3 failures in 60 s, give-ups recorded
    opts.name = "root";
    opts.backoff.initial = caf::timespan{0};
    auto h = start(opts, {worker_spec(allow ? "y" : "x", p)});
    auto s = every(10ms, 5);
    s.filter.allow_give_up = allow;
    auto monkey = spawn_chaos_monkey(sys, h.supervisor, s);
    helpers.push_back(monkey);
    sched.run();
    ticks(10ms, 10);
    auto st = stats(monkey);
    if (!allow) {
      // Three kills, then the child is spared: a fourth failure within the
      // window would make the root give up.
      CAF_CHECK_EQUAL(st.kills, 3u);
      CAF_CHECK_EQUAL(st.idle, 7u);
      CAF_CHECK(give_ups.empty());
      auto x = status(h.supervisor, "x");
      CAF_CHECK_EQUAL(x.recent_failures, 3u);
      // Once the failures age out of the window, chaos resumes (the
      // interval due during the jump kills at once).
      advance_time(60s);
      sched.run();
      auto resumed = stats(monkey);
      CAF_CHECK_EQUAL(resumed.kills, 4u);
      ticks(10ms, 1);
      auto next = stats(monkey);
      CAF_CHECK_EQUAL(next.kills, 5u);
    } else {
      CAF_CHECK_EQUAL(st.kills, 4u);
      CAF_REQUIRE_EQUAL(give_ups.size(), 1u);
      CAF_CHECK_EQUAL(give_ups[0].child, "y");
    }
  }
}

CAF_TEST(intervals are skipped while the tree does not answer) {
  // A root that never answers: each look waits for its whole budget.
  auto silent = sys.spawn(
    [](caf::event_based_actor* self, int) -> caf::behavior {
      self->set_default_handler(caf::skip);
      return {[](caf::get_atom) {}};
    },
    0);
  helpers.push_back(silent);
  auto s = every(100ms, 1);
  s.query_budget = 250ms;
  auto monkey = spawn_chaos_monkey(sys, silent, s);
  helpers.push_back(monkey);
  sched.run();
  ticks(100ms, 3); // the look started at 100 ms still waits at 300 ms
  auto st = stats(monkey);
  CAF_CHECK_EQUAL(st.ticks, 3u);
  CAF_CHECK_EQUAL(st.skipped, 2u);
  CAF_CHECK_EQUAL(st.failures, 0u);
  ticks(100ms, 1); // 350 ms: it gave up; 400 ms: a new look
  st = stats(monkey);
  CAF_CHECK_EQUAL(st.failures, 1u);
  CAF_CHECK_EQUAL(st.skipped, 2u);
  CAF_CHECK_EQUAL(st.kills, 0u);
}

CAF_TEST_FIXTURE_SCOPE_END()
