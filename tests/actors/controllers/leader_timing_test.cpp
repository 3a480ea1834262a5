// Leader election's timing on CAF's deterministic scheduler and virtual
// clock, against a fake kube client (client-go's default durations: lease
// 15 s, renew deadline 10 s, retry period 2 s): acquiring a free or released
// Lease, renewing every retry period, losing leadership exactly at the renew
// deadline when renewals fail or hang, waiting out another holder's Lease
// (and never taking one that is renewed), stopping at once on finding
// another holder, and releasing on shutdown after the leader-only children
// stopped. The same behaviour against a real API server:
// tests/actors/controllers/leader_election_test.cpp.

#define CAF_SUITE controllers.leader_timing

#include "caf/test/dsl.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/controllers/leader_election.hpp"
#include "actors/controllers/messages.hpp"
#include "actors/supervisor/child_spec.hpp"
#include "actors/system/system_config.hpp"
#include "kube/api/errc.hpp"
#include "kube/api/lease.hpp"
#include "kube/api/object.hpp"
#include "metrics/leader_election.hpp"
#include "tests/support/actors.hpp"
#include "tests/support/fake_kube_client.hpp"

using namespace std::chrono_literals;
using namespace istio_csr;
using namespace istio_csr::test;

namespace {

namespace ctl = istio_csr::actors::controllers;
using json = nlohmann::json;
using time_point = caf::actor_clock::time_point;

/// The incarnations of the leader-only child.
struct probe {
  int running = 0;
  int starts = 0;
};

caf::behavior probe_actor(caf::event_based_actor* self,
                          std::shared_ptr<probe> p) {
  ++p->running;
  ++p->starts;
  self->attach_functor([p] { --p->running; });
  return {[](int) {}};
}

struct fixture : test_coordinator_fixture<actors::system_config> {
  fake_kube_client kube{sys};
  std::shared_ptr<probe> p = std::make_shared<probe>();
  caf::actor elector;
  std::vector<caf::actor> helpers;
  /// The elector's exit reason, once it terminated.
  std::shared_ptr<std::optional<caf::error>> down
    = std::make_shared<std::optional<caf::error>>();
  int version = 0;

  ~fixture() override {
    send_exit_to_all(caf::exit_reason::user_shutdown, helpers);
    send_exit_to_all(caf::exit_reason::kill, elector);
    send_exit_to_all(caf::exit_reason::user_shutdown, kube.actor());
    sched.run();
  }

  /// Starts the elector with client-go's defaults; its first attempt (a
  /// GET) is pending when this returns.
  void start(std::string event_namespace = {}) {
    ctl::leader_election_options opts;
    opts.namespace_ = "istio-system";
    opts.name = "istio-csr";
    opts.identity = "me";
    opts.event_namespace = std::move(event_namespace);
    CAF_REQUIRE(!ctl::validate(opts));
    auto pr = p;
    actors::child_spec child{"probe", [pr](actors::child_context& ctx) {
                               return ctx.system().spawn(probe_actor, pr);
                             }};
    elector = ctl::spawn_leader_election(sys, std::move(opts), kube.handle(),
                                         {child});
    helpers.push_back(sys.spawn(
      [](caf::event_based_actor* s, caf::actor elector,
         std::shared_ptr<std::optional<caf::error>> down) -> caf::behavior {
        s->monitor(elector);
        s->set_down_handler(
          [down](caf::down_msg& msg) { *down = std::move(msg.reason); });
        // A behavior keeps the monitor alive (none would end it at once).
        return {[](int) {}};
      },
      elector, down));
    sched.run();
  }

  time_point now() {
    return sched.clock().now();
  }

  /// Advances the virtual clock by `d` and runs what became due.
  void advance(caf::timespan d) {
    advance_time(d);
    sched.run();
  }

  /// Moves the virtual clock to the next timer (a retry's jitter is random)
  /// and runs what became due.
  void next_timer() {
    CAF_REQUIRE(sched.trigger_timeout());
    sched.run();
  }

  /// A Lease held by `holder` with spec fields as given and a fresh
  /// resourceVersion.
  json lease(const std::string& holder, int transitions = 0,
             std::chrono::system_clock::time_point renewed
             = std::chrono::system_clock::time_point{} + 1h) {
    kube::lease_spec spec;
    spec.holder_identity = holder;
    spec.lease_duration = 15s;
    spec.acquire_time = renewed;
    spec.renew_time = renewed;
    spec.lease_transitions = transitions;
    auto result = kube::make_lease("istio-system", "istio-csr", spec);
    if (holder.empty())
      result["spec"]["holderIdentity"] = "";
    result["metadata"]["resourceVersion"] = std::to_string(++version);
    return result;
  }

  /// Answers the write `i` as the API server does: the object as sent,
  /// with a new resourceVersion.
  void accept_write(std::size_t i) {
    auto body = kube.at(i).body;
    body["metadata"]["resourceVersion"] = std::to_string(++version);
    kube.answer(i, std::move(body));
    sched.run();
  }

  /// The spec of the write `i`.
  kube::lease_spec written(std::size_t i) {
    return kube::lease_view{kube.at(i).body}.spec();
  }

  std::string resource_version(std::size_t i) {
    return std::string{kube::object_ref{kube.at(i).body}.resource_version()};
  }

  /// Starts and acquires the missing Lease (create); returns when.
  time_point acquire() {
    start();
    kube.fail(kube.pending_one(kube::verb::get, "leases"),
              kube::make_error(kube::errc::not_found));
    sched.run();
    accept_write(kube.pending_one(kube::verb::create, "leases"));
    CAF_REQUIRE(leading());
    return now();
  }

  ctl::leader_status status() {
    auto result = std::make_shared<std::optional<ctl::leader_status>>();
    helpers.push_back(sys.spawn(
      [](caf::event_based_actor* s, caf::actor dest,
         std::shared_ptr<std::optional<ctl::leader_status>> result) {
        s->request(dest, caf::infinite, ctl::leader_status_atom::value)
          .then([result](ctl::leader_status& x) { *result = std::move(x); });
      },
      elector, result));
    sched.run();
    CAF_REQUIRE(result->has_value());
    return **result;
  }

  bool leading() {
    return status().leading;
  }

  /// Every request is answered.
  bool idle() const {
    return kube.unanswered() == 0;
  }

  /// Acquires, lets the first renewal go out unanswered and shuts down:
  /// the pending renewal and the release written meanwhile.
  std::pair<std::size_t, std::size_t> shutdown_during_renewal() {
    auto t0 = acquire();
    advance(t0 + 2s - now());
    auto renewal = kube.pending_one(kube::verb::update, "leases");
    anon_send_exit(elector, caf::exit_reason::user_shutdown);
    sched.run();
    auto updates = kube.pending(kube::verb::update, "leases");
    CAF_REQUIRE_EQUAL(updates.size(), 2u);
    return {renewal, updates[0] == renewal ? updates[1] : updates[0]};
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(leader_timing_tests, fixture)

CAF_TEST(a missing lease is created and the elector leads) {
  start();
  CAF_CHECK(!leading());
  kube.fail(kube.pending_one(kube::verb::get, "leases"),
            kube::make_error(kube::errc::not_found));
  sched.run();
  auto create = kube.pending_one(kube::verb::create, "leases");
  auto spec = written(create);
  CAF_CHECK_EQUAL(spec.holder_identity, "me");
  CAF_CHECK_EQUAL(spec.lease_duration.count(), 15);
  CAF_CHECK_EQUAL(spec.lease_transitions, 0);
  CAF_CHECK(spec.acquire_time && spec.renew_time);
  CAF_CHECK_EQUAL(p->running, 0);
  accept_write(create);
  auto st = status();
  CAF_CHECK(st.leading);
  CAF_CHECK_EQUAL(st.acquisitions, 1u);
  CAF_CHECK_EQUAL(st.holder, "me");
  CAF_CHECK_EQUAL(p->running, 1);
}

CAF_TEST(a released lease is taken at the first attempt) {
  start();
  kube.answer(kube.pending_one(kube::verb::get, "leases"), lease("", 4));
  sched.run();
  // No waiting for the lease duration: nobody holds it.
  auto put = kube.pending_one(kube::verb::update, "leases");
  CAF_CHECK_EQUAL(resource_version(put), std::to_string(version));
  auto spec = written(put);
  CAF_CHECK_EQUAL(spec.holder_identity, "me");
  CAF_CHECK_EQUAL(spec.lease_transitions, 5);
  accept_write(put);
  CAF_CHECK(leading());
  CAF_CHECK_EQUAL(p->running, 1);
}

CAF_TEST(the leader renews every retry period from its record) {
  auto t0 = acquire();
  for (int i = 1; i <= 10; ++i) {
    advance(t0 + i * 2s - 1ns - now());
    CAF_CHECK(idle());
    advance(1ns);
    // A write with the resourceVersion of the last answer, no read first.
    auto put = kube.pending_one(kube::verb::update, "leases");
    CAF_CHECK_EQUAL(resource_version(put), std::to_string(version));
    CAF_CHECK_EQUAL(written(put).holder_identity, "me");
    accept_write(put);
  }
  // 20 s: past the renew deadline and the lease duration, still leading.
  auto st = status();
  CAF_CHECK(st.leading);
  CAF_CHECK_EQUAL(st.acquisitions, 1u);
  CAF_CHECK_EQUAL(st.losses, 0u);
  CAF_CHECK_EQUAL(kube.find(kube::verb::get).size(), 1u);
  CAF_CHECK_EQUAL(p->running, 1);
  CAF_CHECK_EQUAL(p->starts, 1);
}

CAF_TEST(a leader whose renewals fail stops at the renew deadline) {
  auto t0 = acquire();
  // Every attempt fails (the first renewal writes, the next ones read).
  while (now() < t0 + 10s - 1ns) {
    advance(std::min<caf::timespan>(1s, t0 + 10s - 1ns - now()));
    for (auto i : kube.pending(kube::verb::update, "leases"))
      kube.fail(i, kube::make_error(kube::errc::server_error));
    for (auto i : kube.pending(kube::verb::get, "leases"))
      kube.fail(i, kube::make_error(kube::errc::server_error));
    sched.run();
  }
  CAF_CHECK_EQUAL(kube.find(kube::verb::update, "leases").size(), 1u);
  CAF_CHECK_EQUAL(kube.find(kube::verb::get, "leases").size(), 4u);
  CAF_CHECK(leading());
  CAF_CHECK_EQUAL(p->running, 1);
  CAF_CHECK_EQUAL(metrics::leader_election().value(), 1.0);
  advance(1ns);
  auto st = status();
  CAF_CHECK(!st.leading);
  CAF_CHECK_EQUAL(st.losses, 1u);
  CAF_CHECK_EQUAL(p->running, 0);
  // leader_election_master_status flips with leadership.
  CAF_CHECK_EQUAL(metrics::leader_election().value(), 0.0);
}

CAF_TEST(becoming leader records the LeaderElection event as client - go) {
  CAF_CHECK_EQUAL(metrics::leader_election().value(), 0.0);
  start("cert-ns");
  kube.fail(kube.pending_one(kube::verb::get, "leases"),
            kube::make_error(kube::errc::not_found));
  sched.run();
  CAF_CHECK(kube.find(kube::verb::create, "events").empty());
  accept_write(kube.pending_one(kube::verb::create, "leases"));
  CAF_REQUIRE(leading());
  CAF_CHECK_EQUAL(metrics::leader_election().value(), 1.0);
  auto i = kube.pending_one(kube::verb::create, "events");
  const auto& req = kube.at(i);
  CAF_CHECK_EQUAL(req.namespace_, "cert-ns");
  const auto& ev = req.body;
  CAF_CHECK_EQUAL(ev["reason"], "LeaderElection");
  CAF_CHECK_EQUAL(ev["message"], "me became leader");
  CAF_CHECK_EQUAL(ev["type"], "Normal");
  CAF_CHECK_EQUAL(ev["source"]["component"], "me");
  CAF_CHECK_EQUAL(ev["involvedObject"]["kind"], "Lease");
  CAF_CHECK_EQUAL(ev["involvedObject"]["namespace"], "istio-system");
  CAF_CHECK_EQUAL(ev["involvedObject"]["name"], "istio-csr");
  CAF_CHECK_EQUAL(ev["metadata"]["namespace"], "cert-ns");
  CAF_CHECK_EQUAL(
    ev["metadata"]["name"].get<std::string>().rfind("istio-csr.", 0), 0u);
  // A failed Event costs nothing but a log line: still leading.
  kube.fail(i, kube::make_error(kube::errc::forbidden));
  sched.run();
  CAF_CHECK(leading());
}

CAF_TEST(a hung renewal ends leadership at the renew deadline) {
  auto t0 = acquire();
  advance(2s);
  auto put = kube.pending_one(kube::verb::update, "leases");
  // No answer: nothing else is sent meanwhile.
  advance(8s - 1ns);
  CAF_CHECK_EQUAL(kube.size(), 3u);
  CAF_CHECK(leading());
  advance(1ns);
  CAF_CHECK_EQUAL(now() - t0, caf::timespan{10s});
  CAF_CHECK(!leading());
  CAF_CHECK_EQUAL(p->running, 0);
  // The renewal succeeds after all, too late to last a retry period: no new
  // term starts.
  advance(1s);
  accept_write(put);
  auto st = status();
  CAF_CHECK(!st.leading);
  CAF_CHECK_EQUAL(st.acquisitions, 1u);
  CAF_CHECK_EQUAL(p->starts, 1);
}

CAF_TEST(the lease of another holder is taken once it expired) {
  start();
  auto t0 = now();
  auto theirs = lease("other", 2);
  kube.answer(kube.pending_one(kube::verb::get, "leases"), theirs);
  sched.run();
  auto st = status();
  CAF_CHECK(!st.leading);
  CAF_CHECK_EQUAL(st.holder, "other");
  // The holder does not renew: every read finds the same record.
  std::size_t reads = 1;
  std::optional<std::size_t> put;
  while (!put && now() - t0 < 60s) {
    next_timer();
    for (auto i : kube.pending(kube::verb::get, "leases")) {
      kube.answer(i, theirs);
      ++reads;
    }
    sched.run();
    CAF_REQUIRE(kube.find(kube::verb::create).empty());
    if (auto writes = kube.pending(kube::verb::update, "leases");
        !writes.empty())
      put = writes.front();
    else
      CAF_CHECK(!leading());
  }
  CAF_REQUIRE(put);
  // Not before the lease ran out as seen on our clock (from the first read),
  // and at the first attempt after that (every 2 s plus a jitter of up to
  // 1.2 x 2 s): reads at most 4.4 s apart.
  auto took = now() - t0;
  CAF_MESSAGE("took over after " << caf::deep_to_string(took) << ", " << reads
                                 << " reads");
  CAF_CHECK_GREATER_OR_EQUAL(took, caf::timespan{15s});
  CAF_CHECK_LESS_OR_EQUAL(took, caf::timespan{15s + 4400ms});
  CAF_CHECK_GREATER_OR_EQUAL(reads, 5u);
  auto spec = written(*put);
  CAF_CHECK_EQUAL(spec.holder_identity, "me");
  CAF_CHECK_EQUAL(spec.lease_transitions, 3);
  CAF_CHECK_EQUAL(resource_version(*put),
                  std::string{kube::object_ref{theirs}.resource_version()});
  accept_write(*put);
  CAF_CHECK(leading());
  CAF_CHECK_EQUAL(p->running, 1);
}

CAF_TEST(a lease renewed by its holder is never taken) {
  start();
  auto renewed = std::chrono::system_clock::time_point{} + 1h;
  kube.answer(kube.pending_one(kube::verb::get, "leases"),
              lease("other", 0, renewed));
  sched.run();
  // The holder renews every 2 s (as client-go): each read sees a change.
  auto t0 = now();
  auto last_change = now();
  while (now() - t0 < 60s) {
    next_timer();
    for (auto i : kube.pending(kube::verb::get, "leases")) {
      if (now() - last_change >= 2s) {
        renewed += 2s;
        last_change = now();
      }
      kube.answer(i, lease("other", 0, renewed));
    }
    sched.run();
    CAF_REQUIRE(kube.find(kube::verb::update).empty());
    CAF_REQUIRE(kube.find(kube::verb::create).empty());
  }
  CAF_CHECK(!leading());
  CAF_CHECK_EQUAL(p->starts, 0);
}

CAF_TEST(a leader that finds another holder stops at once) {
  auto t0 = acquire();
  advance(2s);
  // Someone else wrote the Lease: our renewal conflicts...
  kube.fail(kube.pending_one(kube::verb::update, "leases"),
            kube::make_error(kube::errc::conflict));
  sched.run();
  CAF_CHECK(leading());
  // ... the next attempt reads it, held by the usurper.
  advance(2s);
  kube.answer(kube.pending_one(kube::verb::get, "leases"), lease("usurper", 1));
  sched.run();
  CAF_CHECK_EQUAL(now() - t0, caf::timespan{4s});
  auto st = status();
  CAF_CHECK(!st.leading);
  CAF_CHECK_EQUAL(st.holder, "usurper");
  CAF_CHECK_EQUAL(st.losses, 1u);
  CAF_CHECK_EQUAL(p->running, 0);
}

CAF_TEST(shutdown stops the leader children then releases the lease) {
  acquire();
  auto held = version;
  anon_send_exit(elector, caf::exit_reason::user_shutdown);
  sched.run();
  // The children are gone before the release is written.
  CAF_CHECK_EQUAL(p->running, 0);
  auto put = kube.pending_one(kube::verb::update, "leases");
  CAF_CHECK_EQUAL(resource_version(put), std::to_string(held));
  auto& spec = kube.at(put).body.at("spec");
  CAF_CHECK_EQUAL(spec.value("holderIdentity", "?"), "");
  CAF_CHECK_EQUAL(spec.value("leaseDurationSeconds", 0), 1);
  CAF_CHECK(!down->has_value());
  accept_write(put);
  CAF_REQUIRE(down->has_value());
  CAF_CHECK_EQUAL(**down, caf::exit_reason::user_shutdown);
}

CAF_TEST(a release that races an inflight renewal reads and releases again) {
  auto [renewal, release] = shutdown_during_renewal();
  // The API server took the renewal first: the release's resourceVersion
  // is stale.
  accept_write(renewal);
  kube.fail(release, kube::make_error(kube::errc::conflict));
  sched.run();
  CAF_CHECK(!down->has_value());
  kube.answer(kube.pending_one(kube::verb::get, "leases"), lease("me"));
  sched.run();
  auto again = kube.pending_one(kube::verb::update, "leases");
  CAF_CHECK_EQUAL(resource_version(again), std::to_string(version));
  CAF_CHECK_EQUAL(kube.at(again).body.at("spec").value("holderIdentity", "?"),
                  "");
  accept_write(again);
  CAF_REQUIRE(down->has_value());
  CAF_CHECK_EQUAL(**down, caf::exit_reason::user_shutdown);
}

CAF_TEST(a release that finds another holder writes nothing) {
  auto [renewal, release] = shutdown_during_renewal();
  kube.fail(renewal, kube::make_error(kube::errc::conflict));
  kube.fail(release, kube::make_error(kube::errc::conflict));
  sched.run();
  kube.answer(kube.pending_one(kube::verb::get, "leases"), lease("other"));
  sched.run();
  CAF_REQUIRE(down->has_value());
  CAF_CHECK(kube.pending(kube::verb::update, "leases").empty());
}

CAF_TEST(a follower stops without writing) {
  start();
  kube.answer(kube.pending_one(kube::verb::get, "leases"), lease("other"));
  sched.run();
  anon_send_exit(elector, caf::exit_reason::user_shutdown);
  sched.run();
  CAF_REQUIRE(down->has_value());
  CAF_CHECK_EQUAL(**down, caf::exit_reason::user_shutdown);
  CAF_CHECK_EQUAL(kube.size(), 1u);
}

CAF_TEST_FIXTURE_SCOPE_END()
