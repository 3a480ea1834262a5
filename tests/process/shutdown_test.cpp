#define CAF_SUITE process.shutdown
#include "caf/test/unit_test.hpp"

#include <atomic>
#include <mutex>
#include <optional>

#include "process/shutdown_budget.hpp"
#include "process/shutdown_watchdog.hpp"
#include "tests/support/process.hpp"

using namespace istio_csr;
using namespace std::chrono_literals;
using process::shutdown_budget;
using process::shutdown_watchdog;

namespace {

/// What the watchdog reported, if it did.
struct expiries {
  std::mutex mtx;
  std::optional<std::string> phase;
  int count = 0;

  shutdown_watchdog::expiry_handler handler() {
    return [this](const std::string& what) {
      std::lock_guard guard{mtx};
      phase = what;
      ++count;
    };
  }

  int fired() {
    std::lock_guard guard{mtx};
    return count;
  }
};

} // namespace

CAF_TEST(the drain gets min of 15 s and 60 percent and the actors 90 percent) {
  constexpr auto d = shutdown_budget::of(25s);
  static_assert(d.drain == 15s && d.actors_by == 22500ms && d.deadline == 25s);
  auto s = shutdown_budget::of(3s);
  CAF_CHECK(s.drain == 1800ms);
  CAF_CHECK(s.actors_by == 2700ms);
  CAF_CHECK(s.deadline == 3s);
  // A long grace period does not lengthen the drain beyond 15 s.
  auto l = shutdown_budget::of(10min);
  CAF_CHECK(l.drain == 15s);
  CAF_CHECK(l.actors_by == 9min);
  // Each phase ends before the next deadline.
  using ms = std::chrono::milliseconds;
  for (auto grace : {ms{1}, ms{10}, ms{999}, ms{1000}, ms{25000}, ms{600000}}) {
    auto b = shutdown_budget::of(grace);
    CAF_CHECK_LESS_OR_EQUAL(b.drain, b.actors_by);
    CAF_CHECK_LESS_OR_EQUAL(b.actors_by, b.deadline);
  }
}

CAF_TEST(an armed watchdog reports the current phase at its deadline) {
  expiries seen;
  shutdown_watchdog dog{seen.handler()};
  dog.phase("draining gRPC calls");
  auto start = shutdown_watchdog::clock::now();
  dog.arm(start + 200ms);
  dog.phase("stopping actors");
  CAF_REQUIRE(test::wait_until([&] { return seen.fired() > 0; }, 10s));
  CAF_CHECK_GREATER_OR_EQUAL(shutdown_watchdog::clock::now() - start, 200ms);
  std::lock_guard guard{seen.mtx};
  CAF_CHECK_EQUAL(seen.count, 1);
  CAF_CHECK_EQUAL(*seen.phase, "stopping actors");
}

CAF_TEST(a disarmed or destroyed watchdog never reports) {
  expiries seen;
  auto deadline = shutdown_watchdog::clock::now() + 100ms;
  {
    shutdown_watchdog dog{seen.handler()};
    dog.arm(deadline);
    dog.disarm();
    // A second arm does not start it again.
    dog.arm(deadline);
  }
  {
    shutdown_watchdog destroyed{seen.handler()};
    destroyed.arm(deadline);
  }
  // Waiting for what must not happen: past both deadlines, nothing.
  CAF_CHECK(!test::wait_until([&] { return seen.fired() > 0; }, 300ms));
  // Never armed: nothing either, and no thread to join.
  shutdown_watchdog idle{seen.handler()};
  CAF_CHECK(!idle.armed());
}

CAF_TEST(only the first arm counts) {
  expiries seen;
  shutdown_watchdog dog{seen.handler()};
  auto start = shutdown_watchdog::clock::now();
  dog.arm(start + 150ms);
  dog.arm(start + 1h);
  CAF_CHECK(test::wait_until([&] { return seen.fired() == 1; }, 10s));
}
