#define CAF_SUITE signing_actors.supervision
#include "caf/test/unit_test.hpp"

#include "tests/actors/signing/fixture.hpp"

#include "caf/event_based_actor.hpp"
#include "caf/exit_reason.hpp"
#include "caf/send.hpp"

#include "actors/signing/messages.hpp"
#include "kube/api/certificate_request.hpp"
#include "kube/client/resource.hpp"

using namespace istio_csr;
using namespace istio_csr::test;
using namespace istio_csr::test::signing;

namespace {

struct fixture : behaviour_fixture {
  /// A namespace whose issuer behaves as `behaviour`; false (the test
  /// skips) on a real cluster.
  bool prepare(const std::string& behaviour, const std::string& delay = {}) {
    return prepare_namespace("issuer behaviours", "sup", behaviour, delay);
  }

  /// The name of a signer that holds a call (waits for one), other than
  /// `except`; empty if none within 20 s.
  std::string busy_signer(const std::string& except = {}) {
    std::string result;
    wait_until(
      [&] {
        auto all = signer_stats();
        for (size_t i = 0; i < all.size(); ++i)
          if (all[i].active > 0 && sg::names::signer(i) != except) {
            result = sg::names::signer(i);
            return true;
          }
        return false;
      },
      20s, 10ms);
    return result;
  }

  /// A pending CertificateRequest with our label and an issuer nobody
  /// serves, created directly.
  std::string create_cr(bool labelled) {
    auto csr = workload_csr({id});
    sg::cr_request req;
    req.identities = id;
    req.csr_pem = csr;
    req.duration = std::chrono::hours{1};
    req.usages = {"client auth"};
    req.issuer = kube::issuer_ref{"nobody", "Issuer", "cert-manager.io"};
    sg::cr_settings cr;
    cr.namespace_ = ns;
    auto body = sg::make_cr(cr, req);
    if (!labelled)
      body["metadata"].erase("labels");
    auto created = call_ok(kube::request::create(
      kube::resources::certificaterequests, ns, std::move(body)));
    return kube::object_ref{created}.name();
  }

  bool exists(const std::string& name) {
    auto names = cr_names(ns);
    return std::find(names.begin(), names.end(), name) != names.end();
  }
};

/// An actor that only waits to be killed.
caf::behavior idle_actor(caf::event_based_actor*, int) {
  return {[](int) {}};
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(supervision_tests, fixture)

CAF_TEST(a killed signer has its call retried and leaves nothing behind) {
  if (!prepare("delay", "2s"))
    return;
  start(defaults(ns));
  auto answer = sign_async({workload_csr({id}), token});
  auto victim = busy_signer();
  CAF_REQUIRE(!victim.empty());
  // It waits on its CertificateRequest.
  CAF_REQUIRE(wait_until([&] { return watcher_stats().waits == 1; }, 20s));
  auto first = cr_names(ns);
  CAF_REQUIRE_EQUAL(first.size(), 1u);
  kill_child(victim);
  // The dispatcher retried on the other signer: success after the delay.
  CAF_REQUIRE(answer.wait_for(30s) == std::future_status::ready);
  auto res = answer.get();
  CAF_CHECK_EQUAL(res.code, "ok");
  // The watcher deleted the dead signer's object; the retry deleted its own.
  CAF_CHECK_GREATER_OR_EQUAL(watcher_stats().reaped, 1u);
  CAF_CHECK(wait_no_crs(ns));
  // The signer was restarted.
  CAF_CHECK(wait_until([&] { return restarts(victim) == 1; }, 10s));
}

CAF_TEST(three signer losses give a retriable answer and leave nothing) {
  if (!prepare("never"))
    return;
  start(defaults(ns));
  auto answer = sign_async({workload_csr({id}), token});
  // The dispatcher gives a lost call to the next signer, three signers in
  // all (with two signers, the third is the first one restarted).
  std::string previous;
  for (size_t loss = 1; loss <= 3; ++loss) {
    auto busy = busy_signer(previous);
    CAF_REQUIRE(!busy.empty());
    // Each attempt waits on its own object; the lost ones are reaped.
    CAF_REQUIRE(wait_until(
      [&] {
        auto st = watcher_stats();
        return st.reaped >= loss - 1 && st.waits == 1;
      },
      20s));
    CAF_REQUIRE(answer.wait_for(0s) == std::future_status::timeout);
    kill_child(busy);
    previous = busy;
  }
  CAF_REQUIRE(answer.wait_for(30s) == std::future_status::ready);
  CAF_CHECK_EQUAL(answer.get().code, "signer_unavailable");
  CAF_CHECK(wait_no_crs(ns));
}

CAF_TEST(a restarted watcher does not lose waiting requests) {
  if (!prepare("delay", "2s"))
    return;
  start(defaults(ns));
  auto answer = sign_async({workload_csr({id}), token});
  CAF_REQUIRE(wait_until([&] { return watcher_stats().waits == 1; }, 20s));
  kill_child(sg::names::cr_watcher);
  CAF_REQUIRE(answer.wait_for(30s) == std::future_status::ready);
  CAF_CHECK_EQUAL(answer.get().code, "ok");
  CAF_CHECK_EQUAL(restarts(sg::names::cr_watcher), 1u);
  CAF_CHECK(wait_no_crs(ns));
}

CAF_TEST(no orphan outlives twice the signing timeout) {
  using namespace std::chrono;
  for (seconds timeout : {seconds{1}, seconds{10}, seconds{30}, seconds{600}}) {
    auto age = sg::orphan_age_for(timeout);
    auto every = sg::sweep_interval_for(timeout);
    // Older than any replica's own wait, swept before 2 x the timeout.
    CAF_CHECK_GREATER(age, duration_cast<milliseconds>(timeout));
    CAF_CHECK_LESS_OR_EQUAL(age + every, duration_cast<milliseconds>(
                                           2 * std::max<seconds>(timeout, 2s)));
  }
  CAF_CHECK_EQUAL(sg::orphan_age_for(seconds{0}), hours{1});
}

CAF_TEST(the orphan sweep deletes only old objects of ours nobody waits on) {
  if (!prepare(""))
    return;
  auto s = defaults(ns);
  s.watcher.orphan_age = std::chrono::seconds{1};
  s.watcher.sweep_interval = std::chrono::milliseconds{200};
  auto orphan = create_cr(true);
  auto foreign = create_cr(false);
  auto waited = create_cr(true);
  start(s);
  // A live waiter registers for `waited` before it is old enough.
  auto waiter = sys().spawn(idle_actor, 0);
  caf::anon_send(child(sg::names::cr_watcher), sg::cr_wait_atom::value, waited,
                 waiter);
  CAF_REQUIRE(wait_until([&] { return watcher_stats().waits == 1; }, 10s));
  CAF_CHECK(wait_until([&] { return !exists(orphan); }, 20s));
  CAF_CHECK_GREATER_OR_EQUAL(watcher_stats().swept, 1u);
  // Later sweeps still leave these.
  auto runs = watcher_stats().sweeps;
  CAF_CHECK(
    wait_until([&] { return watcher_stats().sweeps >= runs + 2; }, 10s));
  CAF_CHECK(exists(foreign));
  CAF_CHECK(exists(waited));
  // The waiter dies: its object goes.
  caf::anon_send_exit(waiter, caf::exit_reason::kill);
  CAF_CHECK(wait_until([&] { return !exists(waited); }, 20s));
  CAF_CHECK(exists(foreign));
}

CAF_TEST(a slow delete is not sent again by later sweeps) {
  if (!prepare(""))
    return;
  faults_guard guard;
  // Every delete of a CertificateRequest takes 2 s: about ten sweeps run
  // meanwhile.
  set_faults({{"rules",
               {{{"verbs", {"delete"}},
                 {"resources", {"certificaterequests"}},
                 {"latencyMs", 2000}}}}});
  auto s = defaults(ns);
  s.watcher.orphan_age = std::chrono::seconds{1};
  s.watcher.sweep_interval = std::chrono::milliseconds{200};
  auto orphan = create_cr(true);
  start(s);
  CAF_REQUIRE(wait_until([&] { return watcher_stats().swept >= 1; }, 20s));
  auto runs = watcher_stats().sweeps;
  CAF_CHECK(wait_until([&] { return !exists(orphan); }, 20s));
  // Sweeps ran while the delete was on its way, and after it (until the
  // informer saw the object go); none sent another one.
  CAF_CHECK(
    wait_until([&] { return watcher_stats().sweeps >= runs + 5; }, 10s));
  CAF_CHECK_EQUAL(watcher_stats().swept, 1u);
}

CAF_TEST_FIXTURE_SCOPE_END()
