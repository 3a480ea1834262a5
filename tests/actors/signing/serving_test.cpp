#define CAF_SUITE signing_actors.serving
#include "caf/test/unit_test.hpp"

#include "tests/actors/signing/fixture.hpp"

#include "kube/api/certificate_request.hpp"
#include "pki/csr.hpp"
#include "pki/extensions.hpp"

using namespace istio_csr;
using namespace istio_csr::test;
using namespace istio_csr::test::signing;

namespace {

struct fixture : tree_fixture {
  std::string ns;

  void prepare(const std::string& behaviour = {}) {
    ns = make_namespace("serving", behaviour);
  }

  /// Settings with the cert-obtainer: roots from `status.ca` (no file),
  /// fast retries.
  sg::signing_setup serving_setup() {
    auto s = defaults(ns);
    s.with_cert_obtainer = true;
    s.obtainer.roots_from_file = false;
    s.roots = std::make_shared<sg::root_store>();
    s.obtainer.key_type = pki::key_algorithm::ec;
    s.obtainer.key_size = 256;
    s.obtainer.initial_backoff = std::chrono::milliseconds{100};
    s.obtainer.max_backoff = std::chrono::milliseconds{500};
    return s;
  }

  bool wait_deliveries(size_t n, std::chrono::milliseconds t = 30s) {
    return wait_until([&] { return deliveries().size() >= n; }, t, 20ms);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(serving_tests, fixture)

CAF_TEST(the serving certificate is obtained with the upstream request) {
  prepare();
  cr_recorder rec{ns};
  auto s = serving_setup();
  s.obtainer.dns_names = {"istio-csr.cert-manager.svc", "10.1.2.3",
                          "spiffe://cluster.local/ns/cert-manager/sa/csr"};
  s.obtainer.duration = std::chrono::hours{2};
  start(s);
  CAF_REQUIRE(wait_deliveries(1));
  auto got = deliveries().front();
  CAF_REQUIRE(!got.chain.empty());
  const auto& leaf = got.chain.front();
  CAF_CHECK(leaf.matches(got.key));
  CAF_CHECK(got.key.algorithm() == pki::key_algorithm::ec);
  auto sans = leaf.sans();
  CAF_CHECK_EQUAL(sans.dns,
                  std::vector<std::string>{"istio-csr.cert-manager.svc"});
  CAF_CHECK_EQUAL(sans.ips, std::vector<std::string>{"10.1.2.3"});
  CAF_CHECK_EQUAL(
    sans.uris,
    std::vector<std::string>{"spiffe://cluster.local/ns/cert-manager/sa/csr"});
  // The roots came from status.ca, went to the store and to the sink.
  auto roots = s.roots->current();
  CAF_REQUIRE(roots != nullptr);
  CAF_CHECK_EQUAL(roots->pem, bootstrap_ca_pem());
  CAF_REQUIRE_EQUAL(got.roots.size(), 1u);
  CAF_CHECK(got.roots.front() == roots->certs.front());
  // The CertificateRequest (docs/upstream.md §3.1, §4), deleted afterwards.
  auto cr = rec.first_added();
  CAF_REQUIRE(cr);
  kube::certificate_request_view view{*cr};
  CAF_CHECK(view.annotation(kube::identities_annotation)
            == std::optional<std::string>{"istio-csr-serving"});
  CAF_CHECK(view.label(sg::managed_by_label)
            == std::optional<std::string>{"istio-csr"});
  CAF_CHECK_EQUAL(view.usages(), std::vector<std::string>{"server auth"});
  CAF_CHECK_EQUAL(view.duration(), "2h0m0s");
  auto csr = pki::csr::from_pem(view.request().value_or(""));
  CAF_REQUIRE(csr);
  auto subject = csr->subject();
  CAF_CHECK(!subject.common_name);
  CAF_CHECK_EQUAL(subject.organizations, std::vector<std::string>{""});
  bool san_critical = false;
  auto exts = csr->requested_extensions();
  CAF_REQUIRE(exts);
  for (auto& ext : *exts)
    if (ext.oid == pki::oid::subject_alt_name)
      san_critical = ext.critical;
  CAF_CHECK(san_critical);
  CAF_CHECK(rec.deleted(view.name()));
  auto status = obtainer_status();
  CAF_CHECK_EQUAL(status.obtained, 1u);
  CAF_CHECK(status.renew_at
            > std::chrono::system_clock::now() + std::chrono::minutes{70});
}

CAF_TEST(an RSA serving key) {
  prepare();
  auto s = serving_setup();
  s.obtainer.key_type = pki::key_algorithm::rsa;
  s.obtainer.key_size = 2048;
  start(s);
  CAF_REQUIRE(wait_deliveries(1));
  auto got = deliveries().front();
  CAF_CHECK(got.key.algorithm() == pki::key_algorithm::rsa);
  CAF_CHECK_EQUAL(got.key.bits(), 2048);
}

CAF_TEST(the serving certificate is renewed) {
  prepare();
  auto s = serving_setup();
  // Renewal at 2/3 of the remaining lifetime: after about 2 s.
  s.obtainer.duration = std::chrono::seconds{3};
  start(s);
  CAF_REQUIRE(wait_deliveries(2));
  auto got = deliveries();
  CAF_CHECK(got[0].chain.front().serial_hex()
            != got[1].chain.front().serial_hex());
  // A new key each time, in memory only.
  CAF_CHECK(!got[1].chain.front().matches(got[0].key));
  CAF_CHECK(got[1].chain.front().matches(got[1].key));
  CAF_CHECK(wait_no_crs(ns));
}

CAF_TEST(without an issuer it waits and logs then obtains once one is set) {
  prepare();
  log_capture logs;
  auto s = serving_setup();
  s.issuer = std::make_shared<sg::active_issuer>(std::nullopt);
  s.obtainer.waiting_log_interval = std::chrono::milliseconds{100};
  start(s);
  CAF_CHECK(
    logs.wait_for("still waiting for runtime configuration of issuerRef"));
  auto status = obtainer_status();
  CAF_CHECK(status.waiting_for_issuer);
  CAF_CHECK_EQUAL(status.attempts, 0u);
  CAF_CHECK(cr_names(ns).empty());
  s.issuer->set(kube::issuer_ref{"istio-ca", "Issuer", "cert-manager.io"});
  CAF_CHECK(wait_deliveries(1));
}

CAF_TEST(an issuer without a CA gives root CA certificate is not defined) {
  if (!devcluster_only("issuer behaviours"))
    return;
  prepare("empty-ca");
  auto s = serving_setup();
  start(s);
  CAF_CHECK(
    wait_until([&] { return obtainer_status().failures >= 2; }, 30s, 20ms));
  auto status = obtainer_status();
  CAF_CHECK_EQUAL(status.last_error, "root CA certificate is not defined");
  CAF_CHECK(deliveries().empty());
  CAF_CHECK(s.roots->current() == nullptr);
  // With a root file the same answer is fine.
  stop();
  auto with_file = serving_setup();
  auto bundle = sg::policy::load_root_bundle(bootstrap_ca_pem());
  CAF_REQUIRE(bundle);
  with_file.roots = std::make_shared<sg::root_store>(std::move(*bundle));
  with_file.obtainer.roots_from_file = true;
  start(with_file);
  CAF_CHECK(wait_deliveries(1));
}

CAF_TEST(failed and hung attempts are retried and cleaned up) {
  if (!devcluster_only("issuer behaviours"))
    return;
  prepare("never");
  log_capture logs;
  auto s = serving_setup();
  s.obtainer.attempt_timeout = std::chrono::milliseconds{300};
  start(s);
  CAF_CHECK(
    wait_until([&] { return obtainer_status().failures >= 2; }, 30s, 20ms));
  CAF_CHECK(logs.contains("initial serving certificate didn't complete in "
                          "300ms; will retry"));
  // At most the current attempt's object exists.
  CAF_CHECK_LESS_OR_EQUAL(cr_names(ns).size(), 1u);
  set_behaviour(ns, "deny");
  CAF_CHECK(wait_until(
    [&] {
      return obtainer_status().last_error.find("denied") != std::string::npos;
    },
    30s, 20ms));
  set_behaviour(ns, "");
  CAF_CHECK(wait_deliveries(1));
  CAF_CHECK(wait_no_crs(ns));
}

CAF_TEST_FIXTURE_SCOPE_END()
