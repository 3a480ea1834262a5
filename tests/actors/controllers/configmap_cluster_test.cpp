// The namespace watcher and its configmap actors against the test cluster:
// upstream's Test_Reconcile cases (docs/upstream.md §9.1) on a real API server,
// live repairs, selectors, root changes, restarts and the absence of writes
// when nothing changes.

#define CAF_SUITE controllers.configmap_cluster

#include "tests/actors/controllers/configmap_fixture.hpp"

#include "caf/exit_reason.hpp"
#include "caf/send.hpp"

#include "actors/controllers/namespace_watcher.hpp"
#include "kube/api/object.hpp"

using namespace istio_csr;
using namespace istio_csr::test;
using namespace istio_csr::test::controllers;

namespace {

/// A ConfigMap in `ns` whose finalizer keeps `ns` Terminating once deleted.
void hold_namespace(cluster_fixture& f, const std::string& ns) {
  f.call_ok(
    kube::request::create(kube::resources::configmaps, ns,
                          json{{"apiVersion", "v1"},
                               {"kind", "ConfigMap"},
                               {"metadata",
                                {{"name", "holder"},
                                 {"namespace", ns},
                                 {"finalizers", {"istio-csr.test/hold"}}}}}));
}

void release_namespace(cluster_fixture& f, const std::string& ns) {
  f.call(kube::request::merge_patch(kube::resources::configmaps, ns, "holder",
                                    {{"metadata", {{"finalizers", nullptr}}}}));
}

bool terminating(cluster_fixture& f, const std::string& ns) {
  auto obj = f.call(kube::request::get(kube::resources::namespaces, "", ns));
  return obj && kube::string_at(*obj, {"status", "phase"}) == "Terminating";
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(configmap_cluster_tests, distributor_fixture)

CAF_TEST(upstream reconcile cases on the api server) {
  auto& pem = root_pem;
  // Every case of configmap_test.go, set up before the watcher starts.
  auto no_cm = make_namespace("no-cm", injected);
  auto nil_data = make_namespace("nil-data", injected);
  put_root_cert(nil_data, {{"istio.io/config", "true"}}, nullptr);
  auto wrong = make_namespace("wrong", injected);
  put_root_cert(wrong, {{"istio.io/config", "true"}},
                {{"root-cert.pem", "not-root-ca"}});
  auto extra = make_namespace("extra", injected);
  put_root_cert(extra, {{"istio.io/config", "true"}},
                {{"root-cert.pem", pem}, {"foo", "bar"}});
  auto label_false = make_namespace("label-false", injected);
  put_root_cert(label_false, {{"istio.io/config", "false"}},
                {{"root-cert.pem", pem}, {"foo", "bar"}});
  auto correct = make_namespace("correct", injected);
  put_root_cert(correct, {{"istio.io/config", "true"}},
                {{"root-cert.pem", pem}});
  auto correct_labels = make_namespace("correct-labels", injected);
  put_root_cert(correct_labels, {{"istio.io/config", "true"}, {"team", "mesh"}},
                {{"root-cert.pem", pem}});
  auto unmatched
    = make_namespace("unmatched", {{"istio-csr-injection", "disabled"}});
  auto dying = make_namespace("terminating", injected);
  hold_namespace(*this, dying);
  call_ok(kube::request::remove(kube::resources::namespaces, "", dying));
  CAF_REQUIRE(wait_until([&] { return terminating(*this, dying); }, 10s));
  auto correct_rv = root_cert_version(correct);
  auto correct_labels_rv = root_cert_version(correct_labels);
  start(injection_selector);
  for (auto& ns : {no_cm, nil_data, wrong, extra, label_false})
    CAF_CHECK(wait_converged(ns, pem));
  std::vector<std::string> all{no_cm,          nil_data,    wrong,
                               extra,          label_false, correct,
                               correct_labels, unmatched,   dying};
  std::vector<std::string> selected{no_cm,       nil_data, wrong,         extra,
                                    label_false, correct,  correct_labels};
  CAF_REQUIRE(wait_children(all, selected));
  // Correct ones: checked and left alone (same resourceVersion, no write).
  CAF_REQUIRE(wait_until(
    [&] {
      auto a = configmap_stats(correct);
      auto b = configmap_stats(correct_labels);
      return a && b && a->converged && b->converged;
    },
    10s));
  CAF_CHECK_EQUAL(root_cert_version(correct), correct_rv);
  CAF_CHECK_EQUAL(root_cert_version(correct_labels), correct_labels_rv);
  for (auto& ns : {correct, correct_labels}) {
    auto st = configmap_stats(ns);
    CAF_REQUIRE(st);
    CAF_CHECK_EQUAL(st->creates + st->updates, 0u);
  }
  auto kept = root_cert(correct_labels);
  CAF_REQUIRE(kept);
  CAF_CHECK_EQUAL(kube::object_ref{*kept}.label("team").value_or(""), "mesh");
  // Not matching, Terminating: nothing created, no actor.
  CAF_CHECK(!root_cert(unmatched));
  CAF_CHECK(!root_cert(dying));
  CAF_CHECK(!configmap_child(unmatched));
  CAF_CHECK(!configmap_child(dying));
  // A namespace that goes away loses its actor and nothing recreates it.
  call_ok(kube::request::remove(kube::resources::namespaces, "", no_cm));
  CAF_CHECK(wait_until([&] { return !configmap_child(no_cm); }, 5s));
  release_namespace(*this, dying);
}

CAF_TEST(the label and binary data of an updated config map are kept) {
  auto ns = make_namespace("binary", injected);
  call_ok(kube::request::create(
    kube::resources::configmaps, ns,
    json{{"apiVersion", "v1"},
         {"kind", "ConfigMap"},
         {"metadata",
          {{"name", "istio-ca-root-cert"},
           {"namespace", ns},
           {"labels", {{"team", "mesh"}}},
           {"annotations", {{"note", "kept"}}}}},
         {"data", {{"root-cert.pem", "old"}, {"ca.crt", "foo-bar"}}},
         {"binaryData", {{"blob", "AAEC"}}}}));
  start(injection_selector);
  CAF_REQUIRE(wait_converged(ns, root_pem));
  auto cm = root_cert(ns);
  CAF_REQUIRE(cm);
  kube::object_ref ref{*cm};
  CAF_CHECK_EQUAL(ref.label("team").value_or(""), "mesh");
  CAF_CHECK_EQUAL(ref.annotation("note").value_or(""), "kept");
  CAF_CHECK_EQUAL(cm->value("binaryData", json::object()).dump(),
                  json({{"blob", "AAEC"}}).dump());
}

CAF_TEST(drift is repaired within a second) {
  auto ns = make_namespace("drift", injected);
  auto other = make_namespace("other", injected);
  start(injection_selector);
  CAF_REQUIRE(wait_converged(ns, root_pem));
  CAF_REQUIRE(wait_converged(other, root_pem));
  CAF_REQUIRE(wait_children({ns, other}, {ns, other}));
  auto other_rv = root_cert_version(other);
  // An extra data key (upstream e2e: ca.crt: foo-bar). Repaired: a write
  // of ours followed the patch (the repair may already be done here).
  auto patched = call_ok(kube::request::merge_patch(
    kube::resources::configmaps, ns, "istio-ca-root-cert",
    {{"data", {{"ca.crt", "foo-bar"}}}}));
  CAF_CHECK(wait_until(
    [&] {
      return converged(ns, root_pem)
             && root_cert_version(ns)
                  != kube::object_ref{patched}.resource_version();
    },
    1s));
  // Wrong data.
  call_ok(kube::request::merge_patch(kube::resources::configmaps, ns,
                                     "istio-ca-root-cert",
                                     {{"data", {{"root-cert.pem", "x"}}}}));
  CAF_CHECK(wait_converged(ns, root_pem, 1s));
  // The label set to false.
  call_ok(kube::request::merge_patch(
    kube::resources::configmaps, ns, "istio-ca-root-cert",
    {{"metadata", {{"labels", {{"istio.io/config", "false"}}}}}}));
  CAF_CHECK(wait_converged(ns, root_pem, 1s));
  // Deleted.
  call_ok(kube::request::remove(kube::resources::configmaps, ns,
                                "istio-ca-root-cert"));
  CAF_CHECK(wait_converged(ns, root_pem, 1s));
  // Nothing else was written.
  CAF_CHECK_EQUAL(root_cert_version(other), other_rv);
}

CAF_TEST(a new namespace gets the config map within a second) {
  start(injection_selector);
  CAF_REQUIRE(wait_until([&] { return watcher_stats().synced; }, 10s));
  auto ns = make_namespace("new", injected);
  auto plain = make_namespace("plain");
  CAF_CHECK(wait_converged(ns, root_pem, 1s));
  CAF_CHECK(wait_children({ns, plain}, {ns}));
  CAF_CHECK(!root_cert(plain));
  // Labelled later: it gets one too.
  set_label(plain, "istio-csr-injection", "enabled");
  CAF_CHECK(wait_converged(plain, root_pem, 1s));
}

CAF_TEST(a config map is planned from the cache with one write) {
  // Missing, and drifted: each costs its write and nothing else (the
  // informer cache, not a GET, says what is there).
  auto missing = make_namespace("missing", injected);
  auto drifted = make_namespace("drifted", injected);
  put_root_cert(drifted, {{"istio.io/config", "true"}},
                {{"root-cert.pem", "stale"}});
  start(injection_selector);
  CAF_REQUIRE(wait_converged(missing, root_pem));
  CAF_REQUIRE(wait_converged(drifted, root_pem));
  auto m = configmap_stats(missing);
  auto d = configmap_stats(drifted);
  CAF_REQUIRE(m && d);
  CAF_CHECK_EQUAL(m->creates, 1u);
  CAF_CHECK_EQUAL(d->updates, 1u);
  // A GET only follows a conflict (a cache behind the server).
  CAF_CHECK_EQUAL(m->reads, m->conflicts);
  CAF_CHECK_EQUAL(d->reads, d->conflicts);
}

CAF_TEST(the full selector syntax limits the namespaces) {
  auto prod = make_namespace("prod", {{"env", "prod"}});
  auto staging = make_namespace("staging", {{"env", "staging"}});
  auto legacy = make_namespace("legacy", {{"env", "prod"}, {"legacy", "1"}});
  auto dev = make_namespace("dev", {{"env", "dev"}});
  auto none = make_namespace("none");
  start("env in (prod,staging),!legacy");
  CAF_CHECK(wait_converged(prod, root_pem));
  CAF_CHECK(wait_converged(staging, root_pem));
  CAF_CHECK(wait_children({prod, staging, legacy, dev, none}, {prod, staging}));
  CAF_CHECK(!root_cert(legacy));
  CAF_CHECK(!root_cert(dev));
  CAF_CHECK(!root_cert(none));
}

CAF_TEST(a namespace that stops matching keeps its config map untouched) {
  auto stays = make_namespace("stays", injected);
  auto leaves = make_namespace("leaves", injected);
  start(injection_selector);
  CAF_REQUIRE(wait_converged(stays, root_pem));
  CAF_REQUIRE(wait_converged(leaves, root_pem));
  auto old_pem = root_pem;
  set_label(leaves, "istio-csr-injection", std::nullopt);
  CAF_REQUIRE(wait_children({stays, leaves}, {stays}));
  auto left_rv = root_cert_version(leaves);
  CAF_CHECK(!left_rv.empty());
  // Later changes do not reach it any more.
  auto fresh = rotate_roots("root-ca-2");
  CAF_CHECK(wait_converged(stays, fresh));
  call_ok(kube::request::merge_patch(kube::resources::configmaps, leaves,
                                     "istio-ca-root-cert",
                                     {{"data", {{"foo", "bar"}}}}));
  auto drifted_rv = root_cert_version(leaves);
  CAF_CHECK_NOT_EQUAL(drifted_rv, left_rv);
  // `stays` converging after the drift proves the actors had the chance.
  call_ok(kube::request::merge_patch(kube::resources::configmaps, stays,
                                     "istio-ca-root-cert",
                                     {{"data", {{"foo", "bar"}}}}));
  CAF_CHECK(wait_converged(stays, fresh, 1s));
  CAF_CHECK_EQUAL(root_cert_version(leaves), drifted_rv);
  auto cm = root_cert(leaves);
  CAF_REQUIRE(cm);
  CAF_CHECK_EQUAL(kube::string_at(*cm, {"data", "root-cert.pem"}), old_pem);
  // Matching again: it is brought up to date.
  set_label(leaves, "istio-csr-injection", "enabled");
  CAF_CHECK(wait_converged(leaves, fresh, 1s));
}

CAF_TEST(a namespace turning terminating loses its actor) {
  auto ns = make_namespace("dying", injected);
  start(injection_selector);
  CAF_REQUIRE(wait_converged(ns, root_pem));
  hold_namespace(*this, ns);
  call_ok(kube::request::remove(kube::resources::namespaces, "", ns));
  CAF_CHECK(wait_children({ns}, {}));
  CAF_CHECK(wait_until([&] { return !root_cert(ns); }, 10s));
  release_namespace(*this, ns);
}

CAF_TEST(a root change reaches every selected namespace) {
  std::vector<std::string> selected;
  for (int i = 0; i < 4; ++i)
    selected.push_back(make_namespace("rot", injected));
  auto skipped = make_namespace("rot-skipped");
  put_root_cert(skipped, {{"istio.io/config", "true"}},
                {{"root-cert.pem", "someone else's"}});
  auto skipped_rv = root_cert_version(skipped);
  start(injection_selector);
  for (auto& ns : selected)
    CAF_REQUIRE(wait_converged(ns, root_pem));
  auto fresh = rotate_roots("root-ca-rotated");
  for (auto& ns : selected) {
    CAF_CHECK(wait_converged(ns, fresh, 1s));
    auto st = configmap_stats(ns);
    CAF_REQUIRE(st);
    CAF_CHECK_EQUAL(st->creates, 1u);
    CAF_CHECK_EQUAL(st->updates, 1u);
  }
  CAF_CHECK_EQUAL(root_cert_version(skipped), skipped_rv);
}

CAF_TEST(triggers without changes make no requests) {
  std::vector<std::string> selected;
  for (int i = 0; i < 3; ++i)
    selected.push_back(make_namespace("idle", injected));
  start(injection_selector);
  for (auto& ns : selected)
    CAF_REQUIRE(wait_converged(ns, root_pem));
  CAF_REQUIRE(wait_children(selected, selected));
  std::map<std::string, ctl::configmap_stats> before;
  std::map<std::string, std::string> versions;
  for (auto& ns : selected) {
    // Settled: our own write's event came back and was checked.
    CAF_REQUIRE(wait_until(
      [&] {
        auto st = configmap_stats(ns);
        return st && st->converged && st->reconciles >= 2;
      },
      5s));
    before[ns] = *configmap_stats(ns);
    versions[ns] = root_cert_version(ns);
  }
  // Triggers of every kind: routed events, the same roots again, namespace
  // updates that keep matching.
  for (auto& ns : selected)
    for (int i = 0; i < 5; ++i)
      caf::anon_send(configmap_child(ns), ctl::reconcile_atom::value);
  auto same = sg::policy::load_root_bundle(root_pem);
  CAF_REQUIRE(same);
  CAF_CHECK(!roots->set(std::move(*same)));
  for (auto& ns : selected)
    set_label(ns, "unrelated", "x");
  for (auto& ns : selected) {
    CAF_CHECK(wait_until(
      [&] {
        auto st = configmap_stats(ns);
        return st && st->reconciles >= before[ns].reconciles + 6;
      },
      5s));
    auto st = configmap_stats(ns);
    CAF_REQUIRE(st);
    CAF_CHECK_EQUAL(st->reads, before[ns].reads);
    CAF_CHECK_EQUAL(st->creates, before[ns].creates);
    CAF_CHECK_EQUAL(st->updates, before[ns].updates);
    CAF_CHECK_EQUAL(root_cert_version(ns), versions[ns]);
  }
}

CAF_TEST(a killed configmap actor is restarted and touches nothing else) {
  std::vector<std::string> selected;
  for (int i = 0; i < 3; ++i)
    selected.push_back(make_namespace("kill", injected));
  start(injection_selector);
  for (auto& ns : selected)
    CAF_REQUIRE(wait_converged(ns, root_pem));
  CAF_REQUIRE(wait_children(selected, selected));
  auto& victim = selected[0];
  std::map<std::string, std::string> versions;
  for (auto& ns : selected)
    versions[ns] = root_cert_version(ns);
  auto restarts = [&] {
    auto status = ask<actors::child_status>(
      sys(), watcher_stats().configmap_supervisor,
      actors::child_status_atom::value, ctl::configmap_child_name(victim));
    CAF_REQUIRE(status);
    return status->restarts;
  };
  CAF_REQUIRE_EQUAL(restarts(), 0u);
  bool killed = false;
  caf::scoped_actor killer{sys()};
  killer
    ->request(watcher_stats().configmap_supervisor, 30s,
              actors::kill_child_atom::value, ctl::configmap_child_name(victim),
              caf::make_error(caf::exit_reason::kill))
    .receive([&] { killed = true; }, [](caf::error&) {});
  CAF_REQUIRE(killed);
  // Drift while it is down (or just restarting).
  call_ok(kube::request::merge_patch(kube::resources::configmaps, victim,
                                     "istio-ca-root-cert",
                                     {{"data", {{"ca.crt", "foo-bar"}}}}));
  CAF_CHECK(wait_until([&] { return restarts() == 1; }, 5s));
  CAF_CHECK(wait_converged(victim, root_pem, 5s));
  for (size_t i = 1; i < selected.size(); ++i)
    CAF_CHECK_EQUAL(root_cert_version(selected[i]), versions[selected[i]]);
}

CAF_TEST(failed writes are retried with backoff) {
  if (!devcluster_only("fault injection"))
    return;
  auto ns = make_namespace("faulty", injected);
  set_faults({{"rules",
               {{{"verbs", {"create"}},
                 {"resources", {"configmaps"}},
                 {"namespaces", {ns}},
                 {"error", 500},
                 {"count", 2}}}}});
  ctl::configmap_options cm;
  cm.initial_backoff = 50ms;
  start(injection_selector, cm);
  CAF_CHECK(wait_converged(ns, root_pem, 10s));
  auto st = configmap_stats(ns);
  CAF_REQUIRE(st);
  CAF_CHECK_EQUAL(st->errors, 2u);
  CAF_CHECK_EQUAL(st->creates, 1u);
}

CAF_TEST(a conflicting write is retried on fresh state) {
  if (!devcluster_only("fault injection"))
    return;
  auto ns = make_namespace("conflict", injected);
  start(injection_selector);
  CAF_REQUIRE(wait_converged(ns, root_pem));
  // Hold our next update for a second at the server, change the object
  // meanwhile: the held update carries a stale resourceVersion.
  set_faults({{"rules",
               {{{"verbs", {"update"}},
                 {"resources", {"configmaps"}},
                 {"namespaces", {ns}},
                 {"latencyMs", 1000},
                 {"count", 1}}}}});
  call_ok(kube::request::merge_patch(kube::resources::configmaps, ns,
                                     "istio-ca-root-cert",
                                     {{"data", {{"foo", "1"}}}}));
  // The rule is gone once our update reached the server.
  CAF_REQUIRE(wait_until(
    [&] {
      auto faults
        = call_ok(kube::request::raw(kube::verb::get, "/devcluster/v1/faults"));
      return faults.value("rules", json::array()).empty();
    },
    5s));
  call_ok(kube::request::merge_patch(kube::resources::configmaps, ns,
                                     "istio-ca-root-cert",
                                     {{"data", {{"foo", "2"}}}}));
  CAF_CHECK(wait_converged(ns, root_pem, 5s));
  auto st = configmap_stats(ns);
  CAF_REQUIRE(st);
  CAF_CHECK_GREATER_OR_EQUAL(st->conflicts, 1u);
  CAF_CHECK_EQUAL(st->errors, 0u);
}

CAF_TEST_FIXTURE_SCOPE_END()
