// Leader election against the test cluster, with short durations: the
// Lease as client-go writes it, one leader among candidates, takeover after
// a crash, release on shutdown, losing leadership when renewals fail, hang
// or are overtaken, and the leader-only children following leadership.
// When each of these happens (the renew deadline, the lease duration, "at
// once") is checked on virtual time, without wall-clock bounds, by
// tests/actors/controllers/leader_timing_test.cpp.

#define CAF_SUITE controllers.leader

#include "tests/actors/controllers/configmap_fixture.hpp"

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <regex>
#include <unistd.h>

#include "caf/event_based_actor.hpp"
#include "caf/exit_reason.hpp"
#include "caf/send.hpp"
#include "caf/system_messages.hpp"

#include "actors/controllers/controller_tree.hpp"
#include "actors/controllers/leader_election.hpp"
#include "actors/signing/errors.hpp"
#include "config/parse.hpp"
#include "kube/api/errc.hpp"
#include "kube/api/lease.hpp"
#include "kube/api/time.hpp"
#include "kube/client/client_actor.hpp"
#include "tests/support/actors.hpp"

using namespace istio_csr;
using namespace istio_csr::test;
using namespace istio_csr::test::controllers;

namespace {

using steady = std::chrono::steady_clock;

/// Records the incarnations of a leader-only child.
struct probe {
  std::atomic<int> running{0};
  std::atomic<int> starts{0};
  std::mutex mtx;
  std::chrono::system_clock::time_point last_stop;
};

caf::behavior probe_actor(caf::event_based_actor* self,
                          std::shared_ptr<probe> p) {
  ++p->running;
  ++p->starts;
  self->attach_functor([p] {
    std::lock_guard<std::mutex> guard{p->mtx};
    p->last_stop = std::chrono::system_clock::now();
    --p->running;
  });
  return {[](int) {}};
}

actors::child_spec probe_spec(std::shared_ptr<probe> p) {
  return {"probe", [p](actors::child_context& ctx) {
            return ctx.system().spawn(probe_actor, p);
          }};
}

bool micro_time(const std::string& text) {
  static const std::regex re{R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$)"};
  return std::regex_match(text, re);
}

struct fixture : cluster_fixture {
  fixture() {
    cfg = std::make_unique<actors::system_config>();
    sys = std::make_unique<caf::actor_system>(*cfg);
    kube_actor = kube::spawn_client_actor(*sys, admin());
    lease_name = test_cluster::unique_name("lease");
  }

  ~fixture() {
    send_exit_to_all(caf::exit_reason::kill, electors, kube_actor);
    sys->await_all_actors_done();
    call(kube::request::remove(kube::resources::leases, "default", lease_name));
  }

  ctl::leader_election_options options(const std::string& identity) {
    ctl::leader_election_options opts;
    opts.namespace_ = "default";
    opts.name = lease_name;
    opts.identity = identity;
    opts.lease_duration = 2s;
    opts.renew_deadline = 1000ms;
    opts.retry_period = 250ms;
    return opts;
  }

  caf::actor elect(ctl::leader_election_options opts,
                   std::shared_ptr<probe> p) {
    CAF_REQUIRE(!ctl::validate(opts));
    auto hdl = ctl::spawn_leader_election(*sys, std::move(opts), kube_actor,
                                          {probe_spec(std::move(p))});
    electors.push_back(hdl);
    return hdl;
  }

  ctl::leader_status status(const caf::actor& elector) {
    auto st
      = ask<ctl::leader_status>(*sys, elector, ctl::leader_status_atom::value);
    if (!st)
      CAF_FAIL("the elector did not answer");
    return std::move(*st);
  }

  bool leading(const caf::actor& elector) {
    return status(elector).leading;
  }

  /// The Lease, null when absent.
  json lease() {
    auto res = call(
      kube::request::get(kube::resources::leases, "default", lease_name));
    return res ? *res : json(nullptr);
  }

  std::string holder() {
    auto l = lease();
    return l.is_null() ? std::string{}
                       : kube::string_at(l, {"spec", "holderIdentity"});
  }

  /// Waits until `elector` is down; returns its exit reason.
  caf::error wait_down(const caf::actor& elector) {
    caf::scoped_actor self{*sys};
    self->monitor(elector);
    caf::error reason;
    self->receive([&](caf::down_msg& dm) { reason = dm.reason; },
                  caf::after(std::chrono::seconds{30}) >>
                    [] { CAF_FAIL("the elector did not stop"); });
    return reason;
  }

  std::unique_ptr<actors::system_config> cfg;
  std::unique_ptr<caf::actor_system> sys;
  kube::client_actor kube_actor;
  std::string lease_name;
  std::vector<caf::actor> electors;
};

} // namespace

CAF_TEST(validation follows client go) {
  ctl::leader_election_options opts;
  opts.identity = "me";
  CAF_CHECK(!ctl::validate(opts)); // 15 s, 10 s, 2 s
  auto bad = opts;
  bad.identity.clear();
  CAF_CHECK(ctl::validate(bad));
  bad = opts;
  bad.lease_duration = 10s;
  CAF_CHECK(ctl::validate(bad));
  bad = opts;
  bad.renew_deadline = 2400ms; // not > 1.2 x 2 s
  CAF_CHECK(ctl::validate(bad));
  bad = opts;
  bad.retry_period = 0ms;
  CAF_CHECK(ctl::validate(bad));
}

CAF_TEST(the identity is the host name and a random uuid) {
  std::array<char, 256> host{};
  ::gethostname(host.data(), host.size() - 1);
  auto a = ctl::make_leader_identity();
  auto b = ctl::make_leader_identity();
  CAF_CHECK_NOT_EQUAL(a, b);
  std::regex re{"^" + std::string{host.data()}
                + "_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-"
                  "[0-9a-f]{12}$"};
  CAF_CHECK(std::regex_match(a, re));
}

CAF_TEST(durations come from the flags) {
  auto parsed = config::parse(
    std::vector<std::string>{"--leader-election-lease-duration=2500ms",
                             "--leader-election-renew-deadline=1500ms",
                             "--leader-election-retry-period=250ms"});
  CAF_REQUIRE(parsed.should_run());
  auto s = ctl::controller_settings_from(*parsed.opts);
  // Lease durations are whole seconds on the wire: rounded up.
  CAF_CHECK_EQUAL(s.election.lease_duration.count(), 3);
  CAF_CHECK_EQUAL(s.election.renew_deadline.count(), 1500);
  CAF_CHECK_EQUAL(s.election.retry_period.count(), 250);
  CAF_CHECK(!ctl::validate(s.election));
  // client-go's defaults.
  auto defaults = config::parse(std::vector<std::string>{});
  CAF_REQUIRE(defaults.should_run());
  auto d = ctl::controller_settings_from(*defaults.opts);
  CAF_CHECK_EQUAL(d.election.lease_duration.count(), 15);
  CAF_CHECK_EQUAL(d.election.renew_deadline.count(), 10000);
  CAF_CHECK_EQUAL(d.election.retry_period.count(), 2000);
  CAF_CHECK(!ctl::validate(d.election));
  // A renew deadline beyond the lease duration does not fit.
  auto bad = config::parse(
    std::vector<std::string>{"--leader-election-lease-duration=3s",
                             "--leader-election-renew-deadline=5s"});
  CAF_REQUIRE(bad.should_run());
  CAF_CHECK(ctl::validate(ctl::controller_settings_from(*bad.opts).election));
}

CAF_TEST_FIXTURE_SCOPE(leader_tests, fixture)

CAF_TEST(a missing lease is created and then renewed) {
  auto p = std::make_shared<probe>();
  auto a = elect(options("candidate-a"), p);
  CAF_REQUIRE(wait_until([&] { return leading(a); }, 5s));
  // The leader supervisor starts its children after `leading` turned true.
  CAF_CHECK(wait_until([&] { return p->running.load() == 1; }, 5s));
  auto first = lease();
  CAF_REQUIRE(first.is_object());
  auto& spec = first.at("spec");
  CAF_CHECK_EQUAL(spec.value("holderIdentity", ""), "candidate-a");
  CAF_CHECK_EQUAL(spec.value("leaseDurationSeconds", 0), 2);
  CAF_CHECK_EQUAL(spec.value("leaseTransitions", -1), 0);
  auto acquired = spec.value("acquireTime", "");
  auto renewed = spec.value("renewTime", "");
  CAF_CHECK(micro_time(acquired));
  CAF_CHECK(micro_time(renewed));
  // Renewals move renewTime and the resourceVersion, nothing else.
  json later;
  CAF_CHECK(wait_until(
    [&] {
      later = lease();
      return later.is_object()
             && later.at("spec").value("renewTime", "") != renewed;
    },
    3s));
  CAF_CHECK_EQUAL(later.at("spec").value("acquireTime", ""), acquired);
  CAF_CHECK_EQUAL(later.at("spec").value("holderIdentity", ""), "candidate-a");
  CAF_CHECK_EQUAL(later.at("spec").value("leaseTransitions", -1), 0);
  CAF_CHECK_NOT_EQUAL(kube::object_ref{later}.resource_version(),
                      kube::object_ref{first}.resource_version());
  auto st = status(a);
  CAF_CHECK_EQUAL(st.acquisitions, 1u);
  CAF_CHECK_EQUAL(st.losses, 0u);
  CAF_CHECK_EQUAL(p->starts.load(), 1);
}

CAF_TEST(exactly one of two candidates leads) {
  auto pa = std::make_shared<probe>();
  auto pb = std::make_shared<probe>();
  auto a = elect(options("candidate-a"), pa);
  auto b = elect(options("candidate-b"), pb);
  CAF_REQUIRE(wait_until([&] { return leading(a) || leading(b); }, 5s));
  // Watch them for a few renewals: never both, never none, the Lease names
  // the one that leads.
  bool both = false;
  bool switched = false;
  auto first = leading(a) ? std::string{"candidate-a"} : "candidate-b";
  wait_until(
    [&] {
      bool la = leading(a);
      bool lb = leading(b);
      both = both || (la && lb) || (pa->running + pb->running > 1);
      switched = switched || (la ? "candidate-a" : "candidate-b") != first
                 || (!la && !lb);
      return false;
    },
    2500ms, 25ms);
  CAF_CHECK(!both);
  CAF_CHECK(!switched);
  CAF_CHECK_EQUAL(holder(), first);
}

CAF_TEST(a follower takes over after the leader crashed) {
  auto pa = std::make_shared<probe>();
  auto pb = std::make_shared<probe>();
  auto a = elect(options("candidate-a"), pa);
  CAF_REQUIRE(wait_until([&] { return leading(a); }, 5s));
  auto b = elect(options("candidate-b"), pb);
  // b has read the Lease at least once before the crash.
  CAF_REQUIRE(
    wait_until([&] { return status(b).holder == "candidate-a"; }, 5s));
  auto acquired = lease().at("spec").value("acquireTime", "");
  caf::anon_send_exit(a, caf::exit_reason::kill); // no release
  CAF_CHECK(wait_until([&] { return pa->running == 0; }, 2s));
  // When (once the lease ran out as b saw it): controllers.leader_timing.
  CAF_REQUIRE(wait_until([&] { return leading(b); }, 10s));
  auto l = lease();
  CAF_CHECK_EQUAL(l.at("spec").value("holderIdentity", ""), "candidate-b");
  CAF_CHECK_EQUAL(l.at("spec").value("leaseTransitions", -1), 1);
  CAF_CHECK_NOT_EQUAL(l.at("spec").value("acquireTime", ""), acquired);
  CAF_CHECK(wait_until([&] { return pb->running.load() == 1; }, 5s));
}

CAF_TEST(a lease renewed by someone else is never taken) {
  // "ghost" holds the Lease and renews it, as another replica would.
  auto renew_ghost = [&] {
    auto now = std::chrono::system_clock::now();
    kube::lease_spec spec;
    spec.holder_identity = "ghost";
    spec.lease_duration = 2s;
    spec.acquire_time = now;
    spec.renew_time = now;
    auto current = lease();
    if (current.is_null()) {
      call_ok(
        kube::request::create(kube::resources::leases, "default",
                              kube::make_lease("default", lease_name, spec)));
      return;
    }
    current["spec"] = kube::lease_spec_json(spec);
    call_ok(kube::request::update(kube::resources::leases, current));
  };
  renew_ghost();
  auto p = std::make_shared<probe>();
  auto a = elect(options("candidate-a"), p);
  bool took = false;
  auto next = steady::now();
  wait_until(
    [&] {
      if (steady::now() >= next) {
        renew_ghost();
        next = steady::now() + 400ms;
      }
      took = took || leading(a) || p->running > 0;
      return false;
    },
    4s, 25ms);
  CAF_CHECK(!took);
  CAF_CHECK_EQUAL(holder(), "ghost");
  CAF_CHECK_EQUAL(status(a).holder, "ghost");
  // Once the ghost stops renewing, the lease runs out and a takes it.
  CAF_CHECK(wait_until([&] { return leading(a); }, 4s));
  CAF_CHECK_EQUAL(lease().at("spec").value("leaseTransitions", -1), 1);
}

CAF_TEST(shutdown stops the leader children then releases the lease) {
  auto pa = std::make_shared<probe>();
  auto pb = std::make_shared<probe>();
  auto opts_a = options("candidate-a");
  // A long lease: only the release lets b in quickly.
  opts_a.lease_duration = 30s;
  auto a = elect(opts_a, pa);
  CAF_REQUIRE(wait_until([&] { return leading(a); }, 5s));
  auto opts_b = options("candidate-b");
  auto b = elect(opts_b, pb);
  CAF_REQUIRE(
    wait_until([&] { return status(b).holder == "candidate-a"; }, 5s));
  caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  auto reason = wait_down(a);
  CAF_CHECK_EQUAL(reason, caf::exit_reason::user_shutdown);
  CAF_CHECK_EQUAL(pa->running.load(), 0);
  auto l = lease();
  auto holder_now = l.at("spec").value("holderIdentity", "?");
  // Either still the released record or b already took it.
  if (holder_now == "") {
    CAF_CHECK_EQUAL(l.at("spec").value("leaseDurationSeconds", 0), 1);
    // The children stopped before the release was written.
    auto renew = kube::parse_time(l.at("spec").value("renewTime", ""));
    CAF_REQUIRE(renew);
    std::lock_guard<std::mutex> guard{pa->mtx};
    CAF_CHECK_LESS_OR_EQUAL(pa->last_stop, *renew + 1ms);
  } else {
    CAF_CHECK_EQUAL(holder_now, "candidate-b");
  }
  // Well before a's 30 s lease ran out (a released lease is taken at the
  // next attempt: controllers.leader_timing).
  CAF_REQUIRE(wait_until([&] { return leading(b); }, 15s));
  CAF_CHECK_EQUAL(holder(), "candidate-b");
  CAF_CHECK_EQUAL(lease().at("spec").value("leaseTransitions", -1), 1);
}

// When (exactly at the renew deadline, before the lease runs out for the
// others): controllers.leader_timing.
CAF_TEST(a leader that cannot renew stops leading) {
  if (!devcluster_only("fault injection"))
    return;
  auto p = std::make_shared<probe>();
  auto a = elect(options("candidate-a"), p);
  CAF_REQUIRE(wait_until([&] { return leading(a); }, 5s));
  // Every write of the Lease fails from now on.
  set_faults(
    {{"rules",
      {{{"verbs", {"update"}}, {"resources", {"leases"}}, {"error", 500}}}}});
  CAF_REQUIRE(wait_until([&] { return !leading(a); }, 10s));
  CAF_CHECK(wait_until([&] { return p->running == 0; }, 5s));
  CAF_CHECK_EQUAL(status(a).losses, 1u);
  // The API recovers: a still holds the Lease and takes it again at once.
  call_ok(kube::request::raw(kube::verb::remove, "/devcluster/v1/faults"));
  CAF_CHECK(wait_until([&] { return leading(a); }, 3s));
  auto again = status(a);
  CAF_MESSAGE("acquisitions " << again.acquisitions << ", losses "
                              << again.losses);
  CAF_CHECK_EQUAL(again.acquisitions, 2u);
  CAF_CHECK(wait_until([&] { return p->running.load() == 1; }, 1s));
  CAF_CHECK_EQUAL(lease().at("spec").value("leaseTransitions", -1), 0);
  // A renewal that hangs counts as a failed one.
  set_faults({{"rules",
               {{{"verbs", {"update"}},
                 {"resources", {"leases"}},
                 {"latencyMs", 3000}}}}});
  CAF_REQUIRE(wait_until([&] { return !leading(a); }, 10s));
  CAF_CHECK(wait_until([&] { return p->running == 0; }, 5s));
  call_ok(kube::request::raw(kube::verb::remove, "/devcluster/v1/faults"));
}

// When ("at once", before the renew deadline): controllers.leader_timing.
CAF_TEST(a leader that finds another holder stops leading) {
  auto p = std::make_shared<probe>();
  auto a = elect(options("candidate-a"), p);
  CAF_REQUIRE(wait_until([&] { return leading(a); }, 5s));
  auto current = lease();
  auto now = std::chrono::system_clock::now();
  kube::lease_spec spec;
  spec.holder_identity = "usurper";
  spec.lease_duration = 6s;
  spec.acquire_time = now;
  spec.renew_time = now;
  spec.lease_transitions = 1;
  current["spec"] = kube::lease_spec_json(spec);
  // Retry on a conflict with a's renewal.
  CAF_REQUIRE(wait_until(
    [&] {
      auto l = lease();
      l["spec"] = current["spec"];
      return static_cast<bool>(
        call(kube::request::update(kube::resources::leases, l)));
    },
    3s));
  CAF_REQUIRE(wait_until([&] { return !leading(a); }, 10s));
  CAF_CHECK(wait_until([&] { return p->running == 0; }, 1s));
  CAF_CHECK_EQUAL(holder(), "usurper");
  CAF_CHECK_EQUAL(status(a).holder, "usurper");
}

CAF_TEST(leader children that give up take the elector down) {
  auto opts = options("candidate-a");
  opts.max_restarts = 1;
  actors::child_spec broken{
    "broken", [](actors::child_context&) { return caf::actor{}; }};
  broken.backoff = actors::backoff_policy{10ms, 10ms, 1.0};
  auto a = ctl::spawn_leader_election(*sys, opts, kube_actor, {broken});
  electors.push_back(a);
  auto reason = wait_down(a);
  CAF_CHECK(reason);
  CAF_CHECK_NOT_EQUAL(reason, caf::exit_reason::user_shutdown);
  CAF_MESSAGE("exit reason: " << sys->render(reason));
}

CAF_TEST_FIXTURE_SCOPE_END()
