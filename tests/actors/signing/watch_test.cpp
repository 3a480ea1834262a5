#define CAF_SUITE signing_actors.watch
#include "caf/test/unit_test.hpp"

#include "tests/actors/signing/fixture.hpp"

#include "kube/api/condition.hpp"
#include "kube/api/config_map.hpp"

using namespace istio_csr;
using namespace istio_csr::test;
using namespace istio_csr::test::signing;

namespace {

struct fixture : behaviour_fixture {
  /// A namespace whose issuer behaves as `behaviour`; false (the test
  /// skips) on a real cluster.
  bool prepare(const std::string& behaviour, const std::string& delay) {
    return prepare_namespace("watch faults and compaction", "watch", behaviour,
                             delay);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(watch_tests, fixture)

CAF_TEST(dropped watches do not fail a waiting request) {
  if (!prepare("delay", "2s"))
    return;
  start(defaults(ns));
  CAF_REQUIRE(wait_until([&] { return watcher_stats().synced; }, 20s));
  auto before = watcher_stats().watches;
  faults_guard guard;
  // Every watch ends after its first event; new ones after 200 ms too.
  set_faults(
    json{{"watch", {{"dropAfterEvents", 1}, {"dropAfterSeconds", 0.2}}}});
  auto res = sign({workload_csr({id}), token});
  CAF_CHECK_EQUAL(res.code, "ok");
  // The informer resumed several times during the wait.
  auto after = watcher_stats().watches;
  CAF_CHECK_GREATER_OR_EQUAL(after, before + 3);
  set_faults(json::object());
  CAF_CHECK(wait_no_crs(ns));
}

CAF_TEST(a 410 during the wait lists again and the request succeeds) {
  if (!prepare("delay", "3s"))
    return;
  start(defaults(ns));
  CAF_REQUIRE(wait_until([&] { return watcher_stats().synced; }, 20s));
  auto answer = sign_async({workload_csr({id}), token});
  CAF_REQUIRE(wait_until([&] { return watcher_stats().waits == 1; }, 20s));
  // The issuer approves at once and signs after 3 s: once approved, the
  // object does not change until then.
  CAF_REQUIRE(wait_until(
    [&] {
      auto names = cr_names(ns);
      if (names.size() != 1)
        return false;
      auto cr = call_ok(kube::request::get(kube::resources::certificaterequests,
                                           ns, names.front()));
      auto approved = kube::find_condition(kube::conditions_of(cr), "Approved");
      return approved && approved->status == "True";
    },
    20s, 20ms));
  // A write the informer does not see, compaction, and a dropped watch: the
  // informer resumes from a resourceVersion the server no longer has.
  call_ok(
    kube::request::create(kube::resources::configmaps, ns,
                          kube::make_config_map(ns, "bump", {}, {{"k", "v"}})));
  call_ok(kube::request::raw(kube::verb::create, "/devcluster/v1/compact",
                             json::object()));
  call_ok(kube::request::raw(kube::verb::create, "/devcluster/v1/drop-watches",
                             json::object()));
  CAF_CHECK(
    wait_until([&] { return watcher_stats().relists_after_gone >= 1; }, 20s));
  CAF_REQUIRE(answer.wait_for(30s) == std::future_status::ready);
  CAF_CHECK_EQUAL(answer.get().code, "ok");
  CAF_CHECK(wait_no_crs(ns));
}

CAF_TEST_FIXTURE_SCOPE_END()
