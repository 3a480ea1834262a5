#define CAF_SUITE devcluster_issuer.behaviours

#include "caf/test/unit_test.hpp"

#include "tests/devcluster/issuer/fixture.hpp"

using namespace istio_csr;
using namespace istio_csr::test;
using namespace istio_csr::test::issuer;

namespace {

constexpr auto behaviour = "devcluster.istio-csr.io/behaviour";

bool ready(const json& cr) {
  return has_condition(cr, "Ready", "True");
}

bool settled(const json& cr) {
  return condition(cr, "Ready").is_object();
}

/// A namespace with a CA Secret and one Issuer per entry of `issuers`
/// (name → annotations).
struct issuers_fixture {
  std::string ns;
  test_ca root = make_root("behaviour root");
  pki::private_key key = *pki::private_key::generate_ec(256);

  explicit issuers_fixture(
    const std::map<std::string, std::map<std::string, std::string>>& issuers) {
    ns = make_namespace("behaviour");
    create(make_tls_secret(ns, "ca", root.cert.to_pem(), root.key.to_pem(),
                           root.cert.to_pem()));
    for (auto& [name, annotations] : issuers)
      create(make_ca_issuer(ns, name, "ca", annotations));
  }

  void request(const std::string& name, const std::string& issuer) {
    create(make_request(ns, name, make_csr_pem(key, {"spiffe://t/" + name}),
                        issuer));
  }
};

} // namespace

CAF_TEST(deny) {
  CAF_REQUIRE(cluster() != nullptr);
  issuers_fixture f{{{"deny", {{behaviour, "deny"}}}}};
  f.request("denied", "deny");
  auto [cr, ok] = wait_for("certificaterequest", f.ns, "denied", settled);
  CAF_REQUIRE(ok);
  auto denied = condition(*cr, "Denied");
  CAF_CHECK_EQUAL(denied.value("status", ""), "True");
  CAF_CHECK_EQUAL(denied.value("reason", ""), "devcluster");
  CAF_CHECK(!has_condition(*cr, "Approved", "True"));
  auto cond = condition(*cr, "Ready");
  CAF_CHECK_EQUAL(cond.value("status", ""), "False");
  CAF_CHECK_EQUAL(cond.value("reason", ""), "Denied");
  CAF_CHECK(status_pem(*cr, "certificate").empty());
}

CAF_TEST(fail) {
  CAF_REQUIRE(cluster() != nullptr);
  issuers_fixture f{{{"fail", {{behaviour, "fail"}}}}};
  f.request("failed", "fail");
  auto [cr, ok] = wait_for("certificaterequest", f.ns, "failed", settled);
  CAF_REQUIRE(ok);
  CAF_CHECK(has_condition(*cr, "Approved", "True"));
  auto cond = condition(*cr, "Ready");
  CAF_CHECK_EQUAL(cond.value("status", ""), "False");
  CAF_CHECK_EQUAL(cond.value("reason", ""), "Failed");
  CAF_CHECK(cr->at("status").contains("failureTime"));
  CAF_CHECK(status_pem(*cr, "certificate").empty());
}

CAF_TEST(never answers nothing while others are signed) {
  CAF_REQUIRE(cluster() != nullptr);
  issuers_fixture f{{{"never", {{behaviour, "never"}}}, {"normal", {}}}};
  f.request("ignored", "never");
  f.request("first", "normal");
  auto [first, first_ok] = wait_for("certificaterequest", f.ns, "first", ready);
  CAF_REQUIRE(first_ok);
  // A second round through the controllers after the ignored request.
  f.request("second", "normal");
  auto [second, second_ok]
    = wait_for("certificaterequest", f.ns, "second", ready);
  CAF_REQUIRE(second_ok);
  auto ignored = get("certificaterequest", f.ns, "ignored");
  CAF_REQUIRE(ignored);
  auto has_status = ignored->contains("status")
                    && ignored->at("status").contains("conditions")
                    && !ignored->at("status")["conditions"].empty();
  CAF_CHECK(!has_status);
}

CAF_TEST(delay signs later without blocking others) {
  CAF_REQUIRE(cluster() != nullptr);
  using namespace std::chrono;
  issuers_fixture f{
    {{"slow",
      {{behaviour, "delay"}, {"devcluster.istio-csr.io/delay", "2500ms"}}},
     {"fast", {}}}};
  auto start = steady_clock::now();
  f.request("slow", "slow");
  f.request("fast", "fast");
  auto [fast, fast_ok] = wait_for("certificaterequest", f.ns, "fast", ready);
  CAF_REQUIRE(fast_ok);
  auto slow_now = get("certificaterequest", f.ns, "slow");
  CAF_REQUIRE(slow_now);
  // Approved at once, not signed yet.
  CAF_CHECK(!ready(*slow_now));
  auto [slow, slow_ok] = wait_for("certificaterequest", f.ns, "slow", ready);
  CAF_REQUIRE(slow_ok);
  auto waited = duration_cast<milliseconds>(steady_clock::now() - start);
  CAF_MESSAGE("delayed request signed after " << waited.count() << " ms");
  CAF_CHECK(waited >= milliseconds{2500});
  CAF_CHECK(has_condition(*slow, "Approved", "True"));
  CAF_CHECK(!status_pem(*slow, "certificate").empty());
}

CAF_TEST(the empty ca behaviour signs without a CA) {
  CAF_REQUIRE(cluster() != nullptr);
  issuers_fixture f{{{"noca", {{behaviour, "empty-ca"}}}}};
  f.request("leaf", "noca");
  auto [cr, ok] = wait_for("certificaterequest", f.ns, "leaf", ready);
  CAF_REQUIRE(ok);
  auto chain = certs_of(status_pem(*cr, "certificate"));
  CAF_REQUIRE_EQUAL(chain.size(), 1u);
  CAF_CHECK(chain[0].issued_by(f.root.cert));
  CAF_CHECK(status_pem(*cr, "ca").empty());
}
