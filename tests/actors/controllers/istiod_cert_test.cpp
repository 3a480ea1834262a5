// The dynamic istiod Certificate controller (docs/upstream.md §6) against the
// test cluster: nothing while no issuer is configured; created as specified
// with the additional annotations; follows every issuer change, the revert to
// the startup issuer included; repairs manual edits and deletion; takes
// over an existing object without touching its annotations; retries
// conflicts on fresh state and API errors with backoff; and, with
// devcluster's Certificate controller, becomes Ready with Secret istiod-tls
// issued by the issuer it names.

#define CAF_SUITE controllers.istiod_cert

#include "tests/actors/controllers/runtime_fixture.hpp"

#include "kube/api/certificate.hpp"
#include "kube/api/object.hpp"
#include "pki/certificate.hpp"
#include "tests/e2e/fixture.hpp"

using namespace istio_csr;
using namespace istio_csr::test;
using namespace istio_csr::test::controllers;
namespace ctl = istio_csr::actors::controllers;

namespace {

const std::string cert_name = "istiod-dynamic";

const kube::issuer_ref startup = issuer_of("istio-ca");
const kube::issuer_ref runtime = issuer_of("runtimeconfig-ca-issuer");

struct fixture : runtime_fixture {
  ctl::istiod_cert_options opts;
  caf::actor hdl;

  fixture() {
    opts.cert.name = cert_name;
    opts.cert.namespace_ = istio_system;
    opts.cert.trust_domain = "foo.bar";
    opts.cert.revisions = {"default", "1-22-0"};
    opts.cert.additional_dns_names = {"istiod.example.com"};
    opts.cert.additional_annotations = {{"example.com/created-by", "test"}};
    opts.initial_backoff = std::chrono::milliseconds{50};
    opts.max_backoff = std::chrono::milliseconds{200};
    // A shared (real) cluster may hold one from an earlier agent.
    remove_certificate();
  }

  ~fixture() {
    remove_certificate();
  }

  void remove_certificate() {
    if (!cluster().is_devcluster())
      cluster().kubectl({"delete", "certificate", cert_name, "-n", istio_system,
                         "--ignore-not-found", "--wait=false"});
  }

  void start(std::optional<kube::issuer_ref> initial) {
    reset_issuer(std::move(initial));
    hdl = spawn_istiod_cert(opts);
    CAF_REQUIRE(wait_until([&] { return istiod_status(hdl).synced; }, 20s));
  }

  json current() {
    return get_certificate(cluster(), istio_system, cert_name);
  }

  std::string desired_spec(const kube::issuer_ref& ref) {
    return kube::certificate_spec_json(ctl::istiod_cert_spec(opts.cert, ref))
      .dump();
  }

  /// Whether the Certificate's spec is exactly the desired one for `ref`
  /// within `timeout`.
  bool wait_spec(const kube::issuer_ref& ref,
                 std::chrono::milliseconds timeout = 10s) {
    auto want = desired_spec(ref);
    return wait_until(
      [&] {
        auto obj = current();
        return obj.is_object() && obj.contains("spec")
               && obj["spec"].dump() == want;
      },
      timeout, 50ms);
  }

  std::map<std::string, std::string> annotations() {
    auto obj = current();
    return obj.is_null() ? std::map<std::string, std::string>{}
                         : kube::object_ref{obj}.annotations();
  }

  /// One annotation (a copy: CAF_CHECK_EQUAL keeps references to its
  /// arguments past the full expression).
  std::string annotation(const std::string& key) {
    auto all = annotations();
    auto i = all.find(key);
    return i == all.end() ? std::string{} : i->second;
  }

  void kubectl_ok(const std::vector<std::string>& args) {
    auto res = cluster().kubectl(args);
    if (res.exit_code != 0)
      CAF_FAIL("kubectl failed: " << res.err);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(istiod_cert_tests, fixture)

CAF_TEST(nothing while no issuer then created as specified) {
  start(std::nullopt);
  CAF_CHECK_GREATER_OR_EQUAL(istiod_status(hdl).skipped, 1u);
  CAF_CHECK_EQUAL(istiod_status(hdl).creates, 0u);
  CAF_CHECK(current().is_null());
  issuer->set(startup);
  CAF_REQUIRE(wait_spec(startup));
  auto obj = current();
  CAF_CHECK_EQUAL(obj["spec"]["commonName"].get<std::string>(),
                  "istiod.istio-system.svc");
  CAF_CHECK_EQUAL(obj["spec"]["dnsNames"].dump(),
                  json({"istiod.istio-system.svc",
                        "istiod-1-22-0.istio-system.svc", "istiod.example.com"})
                    .dump());
  CAF_CHECK_EQUAL(
    obj["spec"]["uris"].dump(),
    json({"spiffe://foo.bar/ns/istio-system/sa/istiod-service-account"})
      .dump());
  CAF_CHECK_EQUAL(obj["spec"]["secretName"].get<std::string>(), "istiod-tls");
  CAF_CHECK_EQUAL(obj["spec"]["revisionHistoryLimit"].get<int>(), 1);
  CAF_CHECK_EQUAL(
    obj["spec"]["privateKey"].dump(),
    json({{"algorithm", "RSA"}, {"rotationPolicy", "Always"}, {"size", 2048}})
      .dump());
  CAF_CHECK_EQUAL(annotation("example.com/created-by"), "test");
  auto st = istiod_status(hdl);
  CAF_CHECK_EQUAL(st.creates, 1u);
  CAF_CHECK_EQUAL(st.updates, 0u);
  // The controller's own writes and the status updates of cert-manager
  // cause no further writes.
  CAF_CHECK(wait_until([&] { return !istiod_status(hdl).busy; }, 10s));
  CAF_CHECK_EQUAL(istiod_status(hdl).updates, 0u);
}

CAF_TEST(follows the issuer including the revert to the startup issuer) {
  start(startup);
  CAF_REQUIRE(wait_spec(startup));
  // Someone else's annotation survives updates.
  kubectl_ok({"annotate", "certificate", cert_name, "-n", istio_system,
              "example.com/owner=someone"});
  issuer->set(runtime);
  CAF_CHECK(wait_spec(runtime));
  // The revert that upstream misses: the runtime ConfigMap is deleted and
  // the active issuer goes back to the startup one.
  issuer->set(startup);
  CAF_CHECK(wait_spec(startup));
  CAF_CHECK_EQUAL(istiod_status(hdl).updates, 2u);
  auto ann = annotations();
  CAF_CHECK_EQUAL(ann["example.com/owner"], "someone");
  CAF_CHECK_EQUAL(ann["example.com/created-by"], "test");
  // No issuer: the Certificate is left as it is.
  issuer->set(std::nullopt);
  CAF_CHECK(wait_until([&] { return !istiod_status(hdl).issuer; }, 10s));
  CAF_CHECK(wait_spec(startup));
}

CAF_TEST(manual edits and deletion are repaired) {
  start(startup);
  CAF_REQUIRE(wait_spec(startup));
  kubectl_ok({"patch", "certificate", cert_name, "-n", istio_system,
              "--type=merge", "-p",
              R"({"spec":{"dnsNames":["evil.example.com"],)"
              R"("subject":{"organizations":["x"]},"duration":"2h"}})"});
  CAF_CHECK(wait_spec(startup));
  kubectl_ok({"delete", "certificate", cert_name, "-n", istio_system});
  CAF_CHECK(wait_until([&] { return istiod_status(hdl).creates >= 2; }, 10s));
  CAF_CHECK(wait_spec(startup));
  CAF_CHECK_EQUAL(annotation("example.com/created-by"), "test");
}

CAF_TEST(an existing Certificate is taken over and keeps its annotations) {
  kube::certificate_spec other;
  other.common_name = "old";
  other.secret_name = "old-tls";
  other.issuer = issuer_of("old-issuer");
  call_ok(kube::request::create(
    kube::resources::certificates, istio_system,
    kube::make_certificate(istio_system, cert_name, other,
                           {{"example.com/owner", "helm"}})));
  start(startup);
  CAF_CHECK(wait_spec(startup));
  auto ann = annotations();
  CAF_CHECK_EQUAL(ann.size(), 1u);
  CAF_CHECK_EQUAL(ann["example.com/owner"], "helm");
  auto st = istiod_status(hdl);
  CAF_CHECK_EQUAL(st.creates, 0u);
  CAF_CHECK_EQUAL(st.updates, 1u);
}

CAF_TEST(a conflict is retried on fresh state) {
  if (!devcluster_only("injected latency"))
    return;
  start(startup);
  CAF_REQUIRE(wait_spec(startup));
  CAF_REQUIRE(wait_until([&] { return !istiod_status(hdl).busy; }, 10s));
  // The controller's next update waits 1.5 s in the API server; an
  // annotation written meanwhile makes its resourceVersion stale.
  set_faults(json{{"rules",
                   {{{"verbs", {"update"}},
                     {"resources", {"certificates"}},
                     {"latencyMs", 1500},
                     {"count", 1}}}}});
  issuer->set(runtime);
  CAF_REQUIRE(wait_until([&] { return istiod_status(hdl).busy; }, 5s));
  kubectl_ok({"annotate", "certificate", cert_name, "-n", istio_system,
              "example.com/racing=yes"});
  CAF_CHECK(wait_spec(runtime));
  auto st = istiod_status(hdl);
  CAF_CHECK_GREATER_OR_EQUAL(st.conflicts, 1u);
  CAF_CHECK_EQUAL(st.errors, 0u);
  CAF_CHECK_EQUAL(annotation("example.com/racing"), "yes");
  set_faults(json::object());
}

CAF_TEST(API errors are retried with backoff) {
  if (!devcluster_only("injected errors"))
    return;
  set_faults(json{{"rules",
                   {{{"verbs", {"create"}},
                     {"resources", {"certificates"}},
                     {"error", 500},
                     {"count", 3}}}}});
  start(startup);
  CAF_CHECK(wait_spec(startup));
  auto st = istiod_status(hdl);
  CAF_CHECK_EQUAL(st.errors, 3u);
  CAF_CHECK_EQUAL(st.creates, 1u);
  CAF_CHECK(!st.last_error.empty());
  set_faults(json::object());
}

CAF_TEST(becomes Ready with the istiod tls Secret from the issuer it names) {
  if (!devcluster_only("devcluster's Certificate controller"))
    return;
  make_intermediate_issuer(cluster(), istio_system, runtime.name,
                           "runtimeconfig");
  start(startup);
  CAF_REQUIRE(wait_spec(startup));
  auto leaf_ous = [&]() -> std::optional<std::vector<std::string>> {
    std::string err;
    auto secret = e2e::kubectl_json(
      cluster(), {"get", "secret", "istiod-tls", "-n", istio_system}, &err);
    if (secret.is_null())
      return std::nullopt;
    auto leaf
      = pki::certificate::from_pem(e2e::decoded(secret, {"data", "tls.crt"}));
    if (!leaf)
      return std::nullopt;
    return leaf->issuer().organizational_units;
  };
  auto ready = [&] {
    auto obj = current();
    return !obj.is_null() && kube::certificate_view{obj}.ready();
  };
  CAF_REQUIRE(
    wait_until([&] { return ready() && leaf_ous().has_value(); }, 30s, 100ms));
  CAF_CHECK(leaf_ous() == std::vector<std::string>{});
  // The SANs are istiod's.
  std::string err;
  auto secret = e2e::kubectl_json(
    cluster(), {"get", "secret", "istiod-tls", "-n", istio_system}, &err);
  auto leaf
    = pki::certificate::from_pem(e2e::decoded(secret, {"data", "tls.crt"}));
  CAF_REQUIRE(static_cast<bool>(leaf));
  auto sans = leaf->sans();
  CAF_CHECK_EQUAL(
    sans.uris, std::vector<std::string>{
                 "spiffe://foo.bar/ns/istio-system/sa/istiod-service-account"});
  CAF_CHECK_EQUAL(sans.dns,
                  (std::vector<std::string>{"istiod.istio-system.svc",
                                            "istiod-1-22-0.istio-system.svc",
                                            "istiod.example.com"}));
  // Switching the issuer re-issues the Secret from the intermediate.
  issuer->set(runtime);
  CAF_CHECK(wait_spec(runtime));
  CAF_CHECK(wait_until(
    [&] {
      return ready() && leaf_ous() == std::vector<std::string>{"runtimeconfig"};
    },
    30s, 100ms));
}

CAF_TEST_FIXTURE_SCOPE_END()
