// The real istio-csr against the test cluster: istio-ca-root-cert in every
// (selected) namespace, new namespaces, repairs, root file changes, and a
// namespace that stops matching. kubectl is the independent client for the
// changes and the final checks; the admin client polls within deadlines.

#define CAF_SUITE controllers.configmap_agent

#include "tests/actors/controllers/configmap_fixture.hpp"

#include "kube/api/object.hpp"
#include "tests/e2e/fixture.hpp"

using namespace istio_csr;
using namespace istio_csr::test;
using namespace istio_csr::test::controllers;

namespace {

struct fixture : cluster_fixture {
  /// The CA the devcluster issuer signs with: the agent's serving
  /// certificate must chain to the roots of --root-ca-file.
  std::string issuer_pem;
  temp_dir dir;
  std::string root_file;
  std::unique_ptr<agent_process> agent;

  fixture() {
    std::string err;
    issuer_pem = e2e::issuer_root(cluster(), "istio-ca", err);
    if (issuer_pem.empty())
      CAF_FAIL("no issuer root: " << err);
    root_file = dir.write("roots.pem", issuer_pem);
  }

  void start_agent(const std::vector<std::string>& extra = {}) {
    std::string why;
    agent = controllers::start_agent(cluster(), root_file, extra, {}, why);
    if (!agent)
      CAF_FAIL(why);
  }

  /// Every namespace, via kubectl.
  /// namespace → root-cert.pem of every ConfigMap labelled
  /// istio.io/config=true, via kubectl.
  std::map<std::string, std::string> distributed() {
    std::string err;
    auto list = e2e::kubectl_json(
      cluster(), {"get", "configmap", "-A", "-l", "istio.io/config=true"},
      &err);
    if (list.is_null())
      CAF_FAIL("kubectl get configmap: " << err);
    std::map<std::string, std::string> out;
    for (auto& item : list.at("items")) {
      kube::object_ref ref{item};
      if (ref.name() == "istio-ca-root-cert")
        out[ref.namespace_()]
          = kube::string_at(item, {"data", "root-cert.pem"});
    }
    return out;
  }

  void kubectl_ok(const std::vector<std::string>& args) {
    auto res = cluster().kubectl(args);
    if (res.exit_code != 0)
      CAF_FAIL("kubectl failed: " << res.err);
  }

  /// Rewrites the root file in place (the agent watches it).
  void write_roots(const std::string& pem) {
    dir.write("roots.pem", pem);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(configmap_agent_tests, fixture)

CAF_TEST(every namespace gets the root and follows changes) {
  auto early = make_namespace("early");
  start_agent();
  auto namespaces = active_namespaces(cluster());
  CAF_REQUIRE(std::find(namespaces.begin(), namespaces.end(), early)
              != namespaces.end());
  for (auto& ns : namespaces)
    CAF_CHECK(wait_converged(ns, issuer_pem, 20s));
  auto seen = distributed();
  for (auto& ns : namespaces)
    CAF_CHECK_EQUAL(seen[ns], issuer_pem);
  // A new namespace: within a second.
  auto name = test_cluster::unique_name("fresh");
  kubectl_ok({"create", "namespace", name});
  CAF_CHECK(wait_converged(name, issuer_pem, 1s));
  // An extra data key (upstream e2e: ca.crt: foo-bar): repaired within 1 s.
  kubectl_ok({"patch", "configmap", "istio-ca-root-cert", "-n", name,
              "--type=merge", "-p", R"({"data":{"ca.crt":"foo-bar"}})"});
  CAF_CHECK(wait_converged(name, issuer_pem, 1s));
  // Deleted: back within 1 s.
  kubectl_ok({"delete", "configmap", "istio-ca-root-cert", "-n", name});
  CAF_CHECK(wait_converged(name, issuer_pem, 1s));
  // The root file changes (a second root added, as for a CA rotation):
  // every namespace follows.
  auto bundle = issuer_pem + make_root_pem("next-root");
  write_roots(bundle);
  namespaces = active_namespaces(cluster());
  for (auto& ns : namespaces)
    CAF_CHECK(wait_converged(ns, bundle, 5s));
  seen = distributed();
  for (auto& ns : namespaces)
    CAF_CHECK_EQUAL(seen[ns], bundle);
}

CAF_TEST(a selector limits the namespaces and a leaver keeps its map) {
  auto in = make_namespace("in", injected);
  auto also = make_namespace("also", injected);
  auto out = make_namespace("out");
  start_agent({"--configmap-namespace-selector=" + injection_selector});
  CAF_REQUIRE(wait_converged(in, issuer_pem, 20s));
  CAF_REQUIRE(wait_converged(also, issuer_pem, 20s));
  // Only the selected namespaces, whatever else exists (devcluster's
  // default namespaces included).
  auto seen = distributed();
  CAF_CHECK_EQUAL(seen.count(out), 0u);
  if (cluster().is_devcluster()) {
    CAF_CHECK_EQUAL(seen.size(), 2u); // in, also
    CAF_CHECK_EQUAL(seen.count("default"), 0u);
  }
  // `in` stops matching; its ConfigMap stays as it is.
  kubectl_ok({"label", "namespace", in, "istio-csr-injection-"});
  // Sync point: the agent sees namespace events in order, so once a
  // namespace labelled after that change has its map, `in` was dropped.
  auto later = make_namespace("later", injected);
  CAF_REQUIRE(wait_converged(later, issuer_pem, 5s));
  auto kept_rv = root_cert_version(in);
  CAF_REQUIRE(!kept_rv.empty());
  auto bundle = issuer_pem + make_root_pem("next-root");
  write_roots(bundle);
  // `also` follows the change; `in` is left alone, drift included.
  CAF_CHECK(wait_converged(also, bundle, 5s));
  kubectl_ok({"patch", "configmap", "istio-ca-root-cert", "-n", in,
              "--type=merge", "-p", R"({"data":{"ca.crt":"foo-bar"}})"});
  auto drifted_rv = root_cert_version(in);
  kubectl_ok({"patch", "configmap", "istio-ca-root-cert", "-n", also,
              "--type=merge", "-p", R"({"data":{"ca.crt":"foo-bar"}})"});
  CAF_CHECK(wait_converged(also, bundle, 1s));
  CAF_CHECK_EQUAL(root_cert_version(in), drifted_rv);
  auto cm = root_cert(in);
  CAF_REQUIRE(cm);
  CAF_CHECK_EQUAL(kube::string_at(*cm, {"data", "root-cert.pem"}), issuer_pem);
  CAF_CHECK_EQUAL(kube::string_at(*cm, {"data", "ca.crt"}), "foo-bar");
  // Matching again, it is brought up to date at once.
  kubectl_ok({"label", "namespace", out, "istio-csr-injection=enabled"});
  CAF_CHECK(wait_converged(out, bundle, 1s));
}

CAF_TEST_FIXTURE_SCOPE_END()
