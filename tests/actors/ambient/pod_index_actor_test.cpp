// The pod-index actor under the deterministic scheduler: requests wait for
// the first sync, answers carry upstream's reasons, waiting requests expire,
// events keep the index current, and the readiness flag follows the sync.

#define CAF_SUITE ambient.pod_index_actor

#include "caf/test/dsl.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/ambient/errors.hpp"
#include "actors/ambient/messages.hpp"
#include "actors/ambient/pod_index_actor.hpp"
#include "actors/system/system_config.hpp"
#include "kube/client/messages.hpp"
#include "metrics/istio_csr.hpp"
#include "tests/actors/ambient/fixture.hpp"
#include "tests/support/actors.hpp"

using namespace std::chrono_literals;
using namespace istio_csr;
using namespace istio_csr::test::ambient;

namespace {

/// The outcome of one authorization request.
struct reply {
  bool done = false;
  caf::error err;
};

struct fixture : test_coordinator_fixture<actors::system_config> {
  std::shared_ptr<amb::pod_index_status> status
    = std::make_shared<amb::pod_index_status>();
  amb::pod_index_actor index;
  std::vector<caf::actor> helpers;
  uint64_t sequence = 0;

  fixture() {
    amb::pod_index_options opts;
    opts.trusted = allow_ztunnel();
    opts.trust_domain = "cluster.local";
    opts.sync_wait = 5s;
    index = amb::spawn_pod_index(sys, std::move(opts), nullptr, status);
    sched.run();
  }

  ~fixture() override {
    test::send_exit_to_all(caf::exit_reason::user_shutdown, helpers, index);
    sched.run();
  }

  void event(kube::informer_event_type type, const test_pod* pod) {
    kube::informer_event ev;
    ev.type = type;
    if (pod)
      ev.object = pod->record();
    ev.sequence = ++sequence;
    caf::anon_send(index, amb::pod_event_atom::value, std::move(ev));
    sched.run();
  }

  void add(const test_pod& pod) {
    event(kube::informer_event_type::added, &pod);
  }

  void remove(const test_pod& pod) {
    event(kube::informer_event_type::deleted, &pod);
  }

  void synced() {
    event(kube::informer_event_type::synced, nullptr);
  }

  /// Sends a request from a fresh actor; the reply is recorded when the
  /// scheduler runs.
  std::shared_ptr<reply> ask(amb::caller_info caller, std::string identity) {
    auto r = std::make_shared<reply>();
    auto dest = index;
    amb::impersonation_request req{std::move(caller), std::move(identity)};
    // `r` is a spawn argument: CAF 0.17 dereferences a null pointer when a
    // function-based actor is spawned without arguments.
    helpers.push_back(sys.spawn(
      [dest, req](caf::event_based_actor* s, std::shared_ptr<reply> r) {
        s->request(dest, caf::infinite, amb::authorize_atom::value, req)
          .then([r] { r->done = true; },
                [r](caf::error& e) {
                  r->done = true;
                  r->err = std::move(e);
                });
      },
      r));
    sched.run();
    return r;
  }

  amb::pod_index_stats stats() {
    auto result = std::make_shared<std::optional<amb::pod_index_stats>>();
    auto dest = index;
    helpers.push_back(sys.spawn(
      [dest](caf::event_based_actor* s,
             std::shared_ptr<std::optional<amb::pod_index_stats>> result) {
        s->request(dest, caf::infinite, amb::pod_stats_atom::value)
          .then([result](amb::pod_index_stats& x) { *result = std::move(x); });
      },
      result));
    sched.run();
    CAF_REQUIRE(result->has_value());
    return **result;
  }

  std::string reason(const reply& r) {
    if (!r.done)
      return "<no answer>";
    if (!r.err)
      return "<allowed>";
    if (amb::ambient_errc_of(r.err) != amb::ambient_errc::denied)
      return "<" + sys.render(r.err) + ">";
    return r.err.context().get_as<std::string>(0);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(pod_index_actor_tests, fixture)

CAF_TEST(requests before the first sync wait for it) {
  CAF_CHECK(!status->synced);
  add(ztunnel_pod);
  auto r = ask(ztunnel_caller, pod_same_node.identity());
  CAF_CHECK(!r->done);
  CAF_CHECK_EQUAL(stats().waiting, 1u);
  // pod-a arrives with the rest of the first list.
  add(pod_same_node);
  CAF_CHECK(!r->done);
  synced();
  CAF_CHECK(status->synced);
  CAF_CHECK_EQUAL(reason(*r), "<allowed>");
  auto s = stats();
  CAF_CHECK(s.synced);
  CAF_CHECK_EQUAL(s.waiting, 0u);
  CAF_CHECK_EQUAL(s.pods, 2u);
  CAF_CHECK_EQUAL(s.allowed, 1u);
}

CAF_TEST(denials carry the reason) {
  add(ztunnel_pod);
  add(pod_other_node);
  synced();
  auto r = ask(ztunnel_caller, pod_other_node.identity());
  CAF_CHECK_EQUAL(reason(*r),
                  R"(no instances of "ns-a/sa-a" found on node "zt-node")");
  auto caller = ztunnel_caller;
  caller.pod_uid = "old-uid";
  auto r2 = ask(caller, pod_other_node.identity());
  CAF_CHECK_EQUAL(reason(*r2),
                  "pod found, but UID does not match: 12345 vs old-uid");
  CAF_CHECK_EQUAL(stats().denied, 2u);
}

CAF_TEST(events keep the answers current) {
  add(ztunnel_pod);
  synced();
  auto id = pod_same_node.identity();
  CAF_CHECK_NOT_EQUAL(reason(*ask(ztunnel_caller, id)), "<allowed>");
  add(pod_same_node);
  CAF_CHECK_EQUAL(reason(*ask(ztunnel_caller, id)), "<allowed>");
  auto failed = pod_same_node;
  failed.phase = "Failed";
  event(kube::informer_event_type::updated, &failed);
  CAF_CHECK_NOT_EQUAL(reason(*ask(ztunnel_caller, id)), "<allowed>");
  event(kube::informer_event_type::updated, &pod_same_node);
  CAF_CHECK_EQUAL(reason(*ask(ztunnel_caller, id)), "<allowed>");
  remove(pod_same_node);
  CAF_CHECK_EQUAL(reason(*ask(ztunnel_caller, id)),
                  R"(no instances of "ns-a/sa-a" found on node "zt-node")");
  // The ztunnel pod recreated under the same name with a new uid.
  remove(ztunnel_pod);
  auto recreated = ztunnel_pod;
  recreated.uid = "67890";
  add(recreated);
  add(pod_same_node);
  CAF_CHECK_EQUAL(reason(*ask(ztunnel_caller, id)),
                  "pod found, but UID does not match: 67890 vs 12345");
  auto renewed = ztunnel_caller;
  renewed.pod_uid = "67890";
  CAF_CHECK_EQUAL(reason(*ask(renewed, id)), "<allowed>");
  CAF_CHECK_EQUAL(stats().pods, 2u);
  // istio_csr_pod_index_pods follows the index.
  CAF_CHECK_EQUAL(istio_csr::metrics::ours().pod_index_pods.value(), 2.0);
  remove(pod_same_node);
  CAF_CHECK_EQUAL(istio_csr::metrics::ours().pod_index_pods.value(), 1.0);
}

CAF_TEST(waiting requests expire when no sync comes) {
  auto r1 = ask(ztunnel_caller, pod_same_node.identity());
  advance_time(3s);
  sched.run();
  auto r2 = ask(ztunnel_caller, pod_same_node.identity());
  CAF_CHECK(!r1->done);
  advance_time(2s);
  sched.run();
  // r1 waited 5 s: answered; r2 only 2 s.
  CAF_CHECK(r1->done);
  CAF_CHECK(amb::ambient_errc_of(r1->err) == amb::ambient_errc::not_synced);
  CAF_CHECK(!r2->done);
  advance_time(3s);
  sched.run();
  CAF_CHECK(r2->done);
  CAF_CHECK(amb::ambient_errc_of(r2->err) == amb::ambient_errc::not_synced);
  CAF_CHECK_EQUAL(stats().expired, 2u);
  // After a sync requests are answered at once.
  add(ztunnel_pod);
  add(pod_same_node);
  synced();
  CAF_CHECK_EQUAL(reason(*ask(ztunnel_caller, pod_same_node.identity())),
                  "<allowed>");
}

CAF_TEST(the readiness flag drops with the incarnation) {
  synced();
  CAF_CHECK(status->synced);
  anon_send_exit(index, caf::exit_reason::kill);
  sched.run();
  CAF_CHECK(!status->synced);
  // So does the pod count: a new incarnation lists afresh.
  CAF_CHECK_EQUAL(istio_csr::metrics::ours().pod_index_pods.value(), 0.0);
}

CAF_TEST_FIXTURE_SCOPE_END()
