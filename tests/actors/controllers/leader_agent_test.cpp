// Two real istio-csr processes against one cluster: exactly one leads (the
// Lease says which), a SIGKILLed leader is replaced within the lease
// duration, the new leader repairs what drifted meanwhile, and both serve
// CSRs all along. Short election durations come from the environment.

#define CAF_SUITE controllers.leader_agent

#include "tests/actors/controllers/configmap_fixture.hpp"

#include <csignal>

#include "kube/api/object.hpp"
#include "tests/e2e/fixture.hpp"

using namespace istio_csr;
using namespace istio_csr::test;
using namespace istio_csr::test::controllers;

namespace {

using steady = std::chrono::steady_clock;

/// The election durations of these tests (retry period 500 ms).
constexpr auto lease_duration = 3s;

/// The election flags of these tests.
std::vector<std::string> election_args(const std::string& lease = "3s") {
  return {"--leader-election-lease-duration=" + lease,
          "--leader-election-renew-deadline=2s",
          "--leader-election-retry-period=500ms"};
}

struct fixture : cluster_fixture {
  std::string issuer_pem;
  temp_dir dir;
  std::string root_file;
  std::string service_account;
  std::string token;

  fixture() {
    std::string err;
    issuer_pem = e2e::issuer_root(cluster(), "istio-ca", err);
    if (issuer_pem.empty())
      CAF_FAIL("no issuer root: " << err);
    root_file = dir.write("roots.pem", issuer_pem);
    service_account = test_cluster::unique_name("app");
    auto res = cluster().kubectl(
      {"create", "serviceaccount", service_account, "-n", "default"});
    if (res.exit_code != 0)
      CAF_FAIL("kubectl create serviceaccount: " << res.err);
    token = e2e::mint_token(cluster(), "default", service_account);
  }

  std::unique_ptr<agent_process>
  start_agent(const std::vector<std::string>& args = election_args()) {
    std::string why;
    auto agent = controllers::start_agent(cluster(), root_file, args, {}, why);
    if (!agent)
      CAF_FAIL(why);
    return agent;
  }

  std::string holder() {
    auto lease = read_lease(cluster());
    return lease.is_null() ? std::string{}
                           : kube::string_at(lease, {"spec", "holderIdentity"});
  }

  /// One CreateCertificate call as istio-agent makes it.
  e2e::call_result sign(const agent_process& agent) {
    auto csr = e2e::make_csr("spiffe://cluster.local/ns/default/sa/"
                             + service_account);
    e2e::call_options opts;
    opts.token = token;
    opts.timeout = 20s;
    return e2e::create_certificate(agent.address(), issuer_pem, csr.pem, opts);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(leader_agent_tests, fixture)

CAF_TEST(one of two agents leads and a killed leader is replaced) {
  // On a shared real cluster the Lease may still be held by an agent of an
  // earlier test, for its lease duration: start from none.
  if (!cluster().is_devcluster())
    cluster().kubectl({"delete", "lease", "istio-csr", "-n", "istio-system",
                       "--ignore-not-found"});
  auto ns = make_namespace("handover");
  auto a = start_agent();
  auto b = start_agent();
  auto a_id = leader_identity(*a);
  auto b_id = leader_identity(*b);
  CAF_REQUIRE(!a_id.empty());
  CAF_REQUIRE(!b_id.empty());
  CAF_REQUIRE_NOT_EQUAL(a_id, b_id);
  std::string leader_id;
  CAF_REQUIRE(wait_until(
    [&] {
      leader_id = holder();
      return leader_id == a_id || leader_id == b_id;
    },
    10s));
  CAF_REQUIRE(wait_converged(ns, issuer_pem, 10s));
  // The leader keeps the Lease: the holder never changes while both run.
  bool changed = false;
  wait_until(
    [&] {
      changed = changed || holder() != leader_id;
      return false;
    },
    2 * lease_duration, 100ms);
  CAF_CHECK(!changed);
  auto& leader = leader_id == a_id ? a : b;
  auto& follower = leader_id == a_id ? b : a;
  auto follower_id = leader_id == a_id ? b_id : a_id;
  // Both serve certificates (active-active).
  auto ra = sign(*a);
  auto rb = sign(*b);
  CAF_CHECK(ra.ok());
  CAF_CHECK(rb.ok());
  if (!ra.ok() || !rb.ok())
    CAF_MESSAGE(ra.describe() << " / " << rb.describe());
  // Kill the leader without a release, then drift while nobody leads.
  leader->process().signal(SIGKILL);
  auto killed = steady::now();
  {
    auto res = cluster().kubectl({"patch", "configmap", "istio-ca-root-cert",
                                  "-n", ns, "--type=merge", "-p",
                                  R"({"data":{"ca.crt":"foo-bar"}})"});
    CAF_REQUIRE_EQUAL(res.exit_code, 0);
  }
  auto fresh = test_cluster::unique_name("during");
  CAF_REQUIRE_EQUAL(cluster().kubectl({"create", "namespace", fresh}).exit_code,
                    0);
  // The survivor serves throughout the handover.
  int calls = 0;
  int failed = 0;
  bool took_over = wait_until(
    [&] {
      auto r = sign(*follower);
      ++calls;
      if (!r.ok()) {
        ++failed;
        CAF_MESSAGE("call during handover failed: " << r.describe());
      }
      return holder() == follower_id;
    },
    10s, 10ms);
  auto took = steady::now() - killed;
  CAF_REQUIRE(took_over);
  CAF_MESSAGE(
    "handover after "
    << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
    << " ms, " << calls << " calls");
  CAF_CHECK_GREATER(calls, 0);
  CAF_CHECK_EQUAL(failed, 0);
  // client-go's rule: the lease duration after the last change the
  // follower saw, plus at most one jittered retry (1.2 x retry period);
  // the probe adds up to one signing call (slow under ASan on a busy
  // machine) and the kubectl calls above. A follower that waited for more
  // than one extra lease duration would fail this.
  CAF_CHECK_LESS(took, 2 * lease_duration);
  // The new leader repairs what drifted while nobody led.
  CAF_CHECK(wait_converged(ns, issuer_pem, 2s));
  CAF_CHECK(wait_converged(fresh, issuer_pem, 2s));
  auto lease = read_lease(cluster());
  CAF_CHECK_EQUAL(lease.at("spec").value("leaseTransitions", -1), 1);
  auto r = sign(*follower);
  CAF_CHECK(r.ok());
}

CAF_TEST(a stopped leader releases the lease to the other agent) {
  // A long lease: without the release, b would wait 20 s.
  auto args = election_args("20s");
  auto a = start_agent(args);
  auto a_id = leader_identity(*a);
  CAF_REQUIRE(wait_until([&] { return holder() == a_id; }, 10s));
  auto b = start_agent(args);
  auto b_id = leader_identity(*b);
  auto ns = make_namespace("release");
  CAF_REQUIRE(wait_converged(ns, issuer_pem, 10s));
  // SIGTERM: orderly shutdown releases the Lease, so b takes over at its
  // next attempt instead of after the lease duration.
  auto stopped = steady::now();
  CAF_CHECK_EQUAL(a->process().stop(), 0);
  if (!wait_until([&] { return holder() == b_id; }, 10s))
    CAF_FAIL("b did not take over; a's log:\n"
             << a->process().out() << a->process().err());
  CAF_CHECK_LESS(steady::now() - stopped, 8s);
  CAF_CHECK(a->process().err().find("released lease") != std::string::npos
            || a->process().out().find("released lease") != std::string::npos);
  // b leads: it repairs drift.
  CAF_REQUIRE_EQUAL(
    cluster()
      .kubectl({"delete", "configmap", "istio-ca-root-cert", "-n", ns})
      .exit_code,
    0);
  CAF_CHECK(wait_converged(ns, issuer_pem, 2s));
}

CAF_TEST_FIXTURE_SCOPE_END()
