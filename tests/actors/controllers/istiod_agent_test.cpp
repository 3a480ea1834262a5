// The dynamic istiod Certificate with the real istio-csr against devcluster:
// the leader creates it as specified (with the additional annotations), it
// becomes Ready with Secret istiod-tls, follows a runtime issuer change and
// the revert to the static issuer (which upstream misses), and is repaired
// after a manual edit.

#define CAF_SUITE controllers.istiod_agent

#include "tests/actors/controllers/runtime_fixture.hpp"

#include "kube/api/certificate.hpp"
#include "kube/api/object.hpp"
#include "pki/certificate.hpp"
#include "tests/e2e/fixture.hpp"
#include "tests/support/skip.hpp"

using namespace istio_csr;
using namespace istio_csr::test;
using namespace istio_csr::test::controllers;

namespace {

const std::string cm_namespace = "cert-manager";
const std::string cm_name = "runtime-config-map";
const std::string intermediate = "runtimeconfig-ca-issuer";
const std::string cert_name = "istiod-dynamic";

struct fixture {
  std::unique_ptr<e2e::environment> env;

  bool start() {
    e2e::agent_settings settings;
    settings.extra_args = {
      "--runtime-issuance-config-map-name=" + cm_name,
      "--runtime-issuance-config-map-namespace=" + cm_namespace,
      "--istiod-cert-enabled=true",
      "--istiod-cert-istio-revisions=default,1-22-0",
      "--istiod-cert-additional-dns-names=istiod.example.com",
      "--istiod-cert-additional-annotations=example.com/team=mesh",
      "--istiod-cert-key-algorithm=ecdsa",
      "--istiod-cert-key-size=256",
    };
    env = e2e::environment::start(settings, [&](e2e::environment& e) {
      if (!e.cluster->has_devcluster_issuer())
        return std::string{"skip"};
      forget_istiod_state(*e.cluster, cm_namespace, cm_name);
      make_intermediate_issuer(*e.cluster, istio_system, intermediate,
                               "runtimeconfig");
      return std::string{};
    });
    if (env->error == "skip") {
      ICSR_SKIP("needs devcluster's issuer");
      return false;
    }
    env->require();
    return true;
  }

  json certificate() const {
    return get_certificate(*env->cluster, istio_system, cert_name);
  }

  /// The spec's issuer name, empty without a Certificate.
  std::string issuer_name() const {
    auto obj = certificate();
    return obj.is_null() ? std::string{}
                         : kube::certificate_view{obj}.issuer().name;
  }

  /// The OUs of the issuer of the Secret's leaf, nullopt without one.
  std::optional<std::vector<std::string>> secret_issuer_ous() const {
    auto secret = e2e::kubectl_json(
      *env->cluster, {"get", "secret", "istiod-tls", "-n", istio_system});
    if (secret.is_null())
      return std::nullopt;
    auto leaf
      = pki::certificate::from_pem(e2e::decoded(secret, {"data", "tls.crt"}));
    if (!leaf)
      return std::nullopt;
    return leaf->issuer().organizational_units;
  }

  bool ready() const {
    auto obj = certificate();
    return !obj.is_null() && kube::certificate_view{obj}.ready();
  }

  bool wait_issuer(const std::string& name, const std::vector<std::string>& ous,
                   std::chrono::milliseconds timeout = 60s) const {
    return wait_until(
      [&] {
        return issuer_name() == name && ready() && secret_issuer_ous() == ous;
      },
      timeout, 200ms);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(istiod_agent_tests, fixture)

CAF_TEST(the istiod Certificate follows the issuer and is repaired) {
  if (!start())
    return;
  // Created by the leader with the static issuer, Ready with istiod-tls.
  CAF_REQUIRE(wait_issuer("istio-ca", {}));
  auto obj = certificate();
  auto annotations = kube::object_ref{obj}.annotations();
  CAF_CHECK_EQUAL(annotations["example.com/team"], "mesh");
  CAF_CHECK_EQUAL(obj["spec"]["dnsNames"].dump(),
                  json({"istiod.istio-system.svc",
                        "istiod-1-22-0.istio-system.svc", "istiod.example.com"})
                    .dump());
  CAF_CHECK_EQUAL(obj["spec"]["uris"].dump(),
                  json({"spiffe://foo.bar/ns/istio-system/sa/"
                        "istiod-service-account"})
                    .dump());
  CAF_CHECK_EQUAL(
    obj["spec"]["privateKey"].dump(),
    json({{"algorithm", "ECDSA"}, {"rotationPolicy", "Always"}, {"size", 256}})
      .dump());
  auto wanted_spec = obj["spec"];
  // A runtime issuer: the Certificate and its Secret follow.
  put_config_map(*env->cluster, cm_namespace, cm_name,
                 runtime_data(issuer_of(intermediate)));
  CAF_CHECK(wait_issuer(intermediate, {"runtimeconfig"}));
  // The ConfigMap goes: back to the static issuer (upstream waits for the
  // next event on the Certificate).
  delete_config_map(*env->cluster, cm_namespace, cm_name);
  CAF_CHECK(wait_issuer("istio-ca", {}));
  // A manual edit is undone.
  auto res = env->cluster->kubectl(
    {"patch", "certificate", cert_name, "-n", istio_system, "--type=merge",
     "-p", R"({"spec":{"dnsNames":["evil.example.com"],"secretName":"x"}})"});
  CAF_REQUIRE_EQUAL(res.exit_code, 0);
  CAF_CHECK(wait_until(
    [&] {
      auto now = certificate();
      return !now.is_null() && now["spec"] == wanted_spec;
    },
    20s, 100ms));
  // Signing still works all along.
  auto answer = env->call(e2e::make_csr(env->identity).pem);
  CAF_CHECK(answer.ok());
}

CAF_TEST_FIXTURE_SCOPE_END()
