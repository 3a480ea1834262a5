// No update storms (upstream issue #161): once every namespace has its
// ConfigMap, the real agent writes none of them for a minute, while it
// keeps leading and still repairs drift afterwards. An independent
// `kubectl get -w` counts the events, and resourceVersions are compared.

#define CAF_SUITE controllers.configmap_idle

#include "tests/actors/controllers/configmap_fixture.hpp"

#include <set>
#include <sstream>

#include "kube/api/object.hpp"
#include "tests/e2e/fixture.hpp"

using namespace istio_csr;
using namespace istio_csr::test;
using namespace istio_csr::test::controllers;

namespace {

/// How often `needle` (`"type":"X"`) occurs in `text`, with or without the
/// blank after the colon (kubectl prints watch events compact or indented).
size_t count(const std::string& text, std::string needle) {
  size_t n = 0;
  if (auto colon = needle.find("\": "); colon != std::string::npos) {
    auto compact = needle;
    compact.erase(colon + 2, 1);
    n += count(text, compact);
  }
  for (auto pos = text.find(needle); pos != std::string::npos;
       pos = text.find(needle, pos + needle.size()))
    ++n;
  return n;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(configmap_idle_tests, cluster_fixture)

CAF_TEST(an idle cluster sees no writes for a minute) {
  std::string err;
  auto issuer_pem = e2e::issuer_root(cluster(), "istio-ca", err);
  CAF_REQUIRE(!issuer_pem.empty());
  temp_dir dir;
  auto root_file = dir.write("roots.pem", issuer_pem);
  std::vector<std::string> namespaces;
  for (int i = 0; i < 5; ++i)
    namespaces.push_back(make_namespace("idle"));
  std::string why;
  auto agent = controllers::start_agent(cluster(), root_file, {}, {}, why);
  CAF_REQUIRE_EQUAL(why, "");
  auto all = active_namespaces(cluster());
  for (auto& ns : all)
    CAF_REQUIRE(wait_converged(ns, issuer_pem, 20s));
  std::map<std::string, std::string> versions;
  for (auto& ns : all)
    versions[ns] = root_cert_version(ns);
  auto lease_before = read_lease(cluster());
  CAF_REQUIRE(lease_before.is_object());
  // The independent observer: every event on the distributed ConfigMaps.
  auto watch = child_process::spawn({program("kubectl"), "--kubeconfig",
                                     cluster().kubeconfig(), "get", "configmap",
                                     "-A", "-l", "istio.io/config=true", "-w",
                                     "--output-watch-events", "-o", "json"});
  CAF_REQUIRE(watch != nullptr);
  // It starts with one ADDED per existing ConfigMap.
  CAF_REQUIRE(wait_until(
    [&] { return count(watch->out(), R"("type": "ADDED")") >= all.size(); },
    20s, 50ms));
  // Writes in the namespaces that were Active at the start (on a shared
  // real cluster, namespaces of earlier tests may be going away meanwhile,
  // with DELETED events for their ConfigMaps).
  std::set<std::string> watched(all.begin(), all.end());
  auto changes = [&] {
    std::istringstream in{watch->out()};
    size_t n = 0;
    for (;;) {
      in >> std::ws;
      if (in.eof())
        break;
      json event;
      try {
        in >> event;
      } catch (const json::exception&) {
        break; // a partial last event: counted next time
      }
      auto type = event.value("type", "");
      auto ns = kube::string_at(event.value("object", json::object()),
                                {"metadata", "namespace"});
      if ((type == "MODIFIED" || type == "DELETED") && watched.count(ns) == 1)
        ++n;
    }
    return n;
  };
  // A minute of idleness: any write would show up at once.
  bool wrote = wait_until([&] { return changes() > 0; }, 60s, 200ms);
  CAF_CHECK(!wrote);
  if (wrote)
    CAF_MESSAGE("watch output:\n" << watch->out());
  for (auto& ns : all)
    CAF_CHECK_EQUAL(root_cert_version(ns), versions[ns]);
  // The agent was leading all along: it kept renewing the Lease...
  auto lease_after = read_lease(cluster());
  CAF_REQUIRE(lease_after.is_object());
  CAF_CHECK_EQUAL(kube::string_at(lease_after, {"spec", "holderIdentity"}),
                  leader_identity(*agent));
  CAF_CHECK_NOT_EQUAL(kube::string_at(lease_after, {"spec", "renewTime"}),
                      kube::string_at(lease_before, {"spec", "renewTime"}));
  // ...and still repairs drift; the observer sees those writes (so it
  // would have seen the ones it must not see).
  auto& target = namespaces.front();
  auto res = cluster().kubectl({"patch", "configmap", "istio-ca-root-cert",
                                "-n", target, "--type=merge", "-p",
                                R"({"data":{"ca.crt":"foo-bar"}})"});
  CAF_REQUIRE_EQUAL(res.exit_code, 0);
  CAF_CHECK(wait_converged(target, issuer_pem, 1s));
  CAF_CHECK(wait_until([&] { return changes() >= 2; }, 5s, 50ms));
  watch->stop();
}

CAF_TEST_FIXTURE_SCOPE_END()
