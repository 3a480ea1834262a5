// Runtime issuer configuration with the real istio-csr against devcluster,
// as upstream's e2e (runtimeconfiguration, e2e-pure-runtime): a ConfigMap
// switches signing to an intermediate issuer (3 certificates, leaf issuer
// OU runtimeconfig) and its deletion reverts; incomplete data keeps the
// previous issuer; a pure-runtime install waits for its ConfigMap; an
// in-flight request keeps the issuer it started with while a new one uses
// the new issuer at once.

#define CAF_SUITE controllers.runtime_agent

#include "tests/actors/controllers/runtime_fixture.hpp"

#include <future>

#include "tests/e2e/fixture.hpp"
#include "tests/support/skip.hpp"

using namespace istio_csr;
using namespace istio_csr::test;
using namespace istio_csr::test::controllers;
namespace ctl = istio_csr::actors::controllers;

namespace {

constexpr int internal = 13;

/// Upstream's e2e names.
const std::string cm_namespace = "cert-manager";
const std::string cm_name = "runtime-config-map";
const std::string intermediate = "runtimeconfig-ca-issuer";
const std::string intermediate_ou = "runtimeconfig";

const kube::issuer_ref startup = issuer_of("istio-ca");

std::vector<std::string> runtime_flags() {
  return {"--runtime-issuance-config-map-name=" + cm_name,
          "--runtime-issuance-config-map-namespace=" + cm_namespace};
}

struct fixture {
  std::unique_ptr<e2e::environment> env;

  /// Starts devcluster with the intermediate issuer (plus `prepare`) and
  /// the agent with the runtime flags and `extra` flags. False (with a
  /// message) on a real cluster.
  bool start(std::vector<std::string> extra,
             const std::function<void(e2e::environment&)>& prepare = {}) {
    e2e::agent_settings settings;
    settings.extra_args = runtime_flags();
    settings.extra_args.insert(settings.extra_args.end(), extra.begin(),
                               extra.end());
    env = e2e::environment::start(settings, [&](e2e::environment& e) {
      if (!e.cluster->has_devcluster_issuer())
        return std::string{"skip"};
      forget_istiod_state(*e.cluster, cm_namespace, cm_name);
      make_intermediate_issuer(*e.cluster, istio_system, intermediate,
                               intermediate_ou);
      if (prepare)
        prepare(e);
      return std::string{};
    });
    if (env->error == "skip") {
      ICSR_SKIP("needs devcluster's issuer (behaviour annotations)");
      return false;
    }
    env->require();
    return true;
  }

  const test_cluster& cluster() const {
    return *env->cluster;
  }

  void put_runtime(const std::map<std::string, std::string>& data) {
    put_config_map(cluster(), cm_namespace, cm_name, data);
  }

  void put_runtime(const std::string& issuer_name) {
    put_runtime(runtime_data(issuer_of(issuer_name)));
  }

  void delete_runtime() {
    delete_config_map(cluster(), cm_namespace, cm_name);
  }

  /// How many log lines of the agent contain `needle`.
  size_t log_count(const std::string& needle) const {
    auto& proc = env->csr_agent->process();
    auto text = proc.out() + proc.err();
    size_t n = 0;
    for (auto pos = text.find(needle); pos != std::string::npos;
         pos = text.find(needle, pos + needle.size()))
      ++n;
    return n;
  }

  /// Waits until the agent has logged `needle` more than `before` times.
  void wait_log(const std::string& needle, size_t before,
                std::chrono::milliseconds timeout = 20s) {
    if (!wait_until([&] { return log_count(needle) > before; }, timeout, 20ms))
      CAF_FAIL("the agent did not log \"" << needle << "\"; its output:\n"
                                          << env->csr_agent->log_tail());
  }

  /// Signs a fresh CSR of the workload.
  e2e::call_result sign() const {
    return env->call(e2e::make_csr(env->identity).pem);
  }

  /// Checks a successful answer of `n` certificates whose leaf issuer has
  /// the OUs `ous`, verified against the issuer root.
  void check_chain(const e2e::call_result& res, size_t n,
                   const std::vector<std::string>& ous) {
    if (!res.ok())
      CAF_FAIL("the call failed: " << res.describe() << "; agent output:\n"
                                   << env->csr_agent->log_tail());
    CAF_REQUIRE_EQUAL(res.chain.size(), n);
    auto chain = e2e::parse_response(res.chain);
    CAF_CHECK_EQUAL(chain.leaf.issuer().organizational_units, ous);
    std::vector<std::string> inters(res.chain.begin() + 1, res.chain.end() - 1);
    auto verified = e2e::openssl_verify(*env->dir, env->root_pem, inters,
                                        res.chain.front());
    CAF_CHECK_EQUAL(verified, "");
  }
};

const std::string applied = "runtime issuer configuration applied";
const std::string reverted = "reverted to the startup issuer";
const std::string refused = "invalid runtime issuer configuration";
const std::string serving_ready = "serving certificate ready";

} // namespace

CAF_TEST_FIXTURE_SCOPE(runtime_agent_tests, fixture)

CAF_TEST(the ConfigMap switches to an intermediate and deletion reverts) {
  if (!start({}))
    return;
  check_chain(sign(), 2, {});
  auto servings = log_count(serving_ready);
  auto before = log_count(applied);
  put_runtime(intermediate);
  wait_log(applied, before);
  // The very next request chains through the intermediate.
  check_chain(sign(), 3, {intermediate_ou});
  // The serving certificate is re-issued by the new issuer at once (ours:
  // upstream waits for the next renewal).
  wait_log(serving_ready, servings);
  before = log_count(reverted);
  delete_runtime();
  wait_log(reverted, before);
  check_chain(sign(), 2, {});
}

CAF_TEST(incomplete data keeps the previous issuer) {
  if (!start({}))
    return;
  auto before = log_count(applied);
  put_runtime(intermediate);
  wait_log(applied, before);
  auto refusals = log_count(refused);
  auto data = runtime_data(issuer_of("istio-ca"));
  data.erase(ctl::issuer_kind_key);
  put_runtime(data);
  wait_log(refused, refusals);
  CAF_CHECK_GREATER(log_count("issuer-kind"), 0u);
  check_chain(sign(), 3, {intermediate_ou});
  // Complete again: applied.
  before = log_count(applied);
  put_runtime("istio-ca");
  wait_log(applied, before);
  check_chain(sign(), 2, {});
}

CAF_TEST(a pure runtime install waits for its ConfigMap) {
  // Upstream's e2e-pure-runtime: no static issuer, the dynamic istiod
  // Certificate on.
  if (!start({"--issuer-enabled=false", "--istiod-cert-enabled=true"}))
    return;
  // Ready while no issuer is configured (upstream semantics, kept: see
  // docs/compatibility.md), but there is no serving certificate yet and
  // nothing is created.
  CAF_CHECK_EQUAL(http_status(env->csr_agent->readiness_port(), "/readyz"),
                  200);
  auto first = sign();
  CAF_CHECK(!first.ok());
  CAF_MESSAGE("before the ConfigMap: " << first.describe());
  CAF_CHECK(
    get_certificate(cluster(), istio_system, "istiod-dynamic").is_null());
  put_runtime("istio-ca");
  // The serving certificate, then signing: a 2-certificate chain.
  CAF_REQUIRE(wait_until([&] { return sign().ok(); }, 30s, 200ms));
  check_chain(sign(), 2, {});
  CAF_CHECK_EQUAL(http_status(env->csr_agent->readiness_port(), "/readyz"),
                  200);
  // The istiod Certificate becomes Ready with the runtime issuer.
  CAF_CHECK(wait_until(
    [&] {
      auto obj = get_certificate(cluster(), istio_system, "istiod-dynamic");
      return !obj.is_null() && kube::certificate_view{obj}.ready()
             && kube::certificate_view{obj}.issuer() == startup;
    },
    60s, 200ms));
  // The ConfigMap goes: signing is refused with upstream's answer until it
  // returns; the serving certificate stays.
  auto before = log_count("no issuer is configured");
  delete_runtime();
  wait_log("no issuer is configured", before);
  auto res = sign();
  CAF_CHECK_EQUAL(res.code, internal);
  CAF_CHECK_EQUAL(res.message, "failed to sign certificate request");
  CAF_CHECK(res.chain.empty());
  auto applied_before = log_count(applied);
  put_runtime(intermediate);
  wait_log(applied, applied_before);
  check_chain(sign(), 3, {intermediate_ou});
}

CAF_TEST(a request in flight keeps its issuer and a new one does not wait) {
  const std::string slow = "slow-ca";
  if (!start({"--certificate-request-timeout=60s"}, [&](e2e::environment& e) {
        // devcluster's istio-ca key, signing after 8 s.
        make_ca_issuer(*e.cluster, istio_system, slow, "istio-ca",
                       {{e2e::behaviour_annotation, "delay"},
                        {"devcluster.istio-csr.io/delay", "8s"}});
      }))
    return;
  auto before = log_count(applied);
  put_runtime(slow);
  wait_log(applied, before);
  // Request A starts with the slow issuer...
  auto csr_a = e2e::make_csr(env->identity);
  e2e::call_options long_call;
  long_call.timeout = 60s;
  auto a = std::async(std::launch::async,
                      [&] { return env->call(csr_a.pem, long_call); });
  CAF_REQUIRE(wait_until(
    [&] {
      auto cr = e2e::find_request(cluster(), csr_a.pem);
      return cr && (*cr)["spec"]["issuerRef"]["name"] == slow;
    },
    20s, 50ms));
  // ...the issuer changes while it waits...
  before = log_count(applied);
  put_runtime(intermediate);
  wait_log(applied, before);
  // ...and request B uses the new issuer at once: it does not wait for A.
  auto b = sign();
  CAF_CHECK(a.wait_for(0s) != std::future_status::ready);
  check_chain(b, 3, {intermediate_ou});
  CAF_CHECK_LESS(b.elapsed.count(), 5000);
  // A finishes with the issuer it started with.
  CAF_REQUIRE(a.wait_for(60s) == std::future_status::ready);
  auto res_a = a.get();
  check_chain(res_a, 2, {});
  CAF_CHECK_GREATER(res_a.elapsed.count(), b.elapsed.count());
}

CAF_TEST_FIXTURE_SCOPE_END()
