// How the agent answers when the issuer misbehaves (docs/upstream.md §2.8),
// with devcluster's issuer behaviours (annotation devcluster.istio-csr.io/
// behaviour on a second Issuer selected with --issuer-name), and issuers
// with an intermediate CA or a root the agent does not trust.
//
// The serving certificate comes from the same issuer, so the behaviour is
// switched on only once the agent is ready.

#define CAF_SUITE e2e.issuer

#include "tests/e2e/fixture.hpp"

#include "errors/describe.hpp"
#include "kube/api/base64.hpp"
#include "pki/issue.hpp"
#include "pki/verify.hpp"
#include "tests/support/skip.hpp"

using namespace istio_csr;
using namespace istio_csr::test;
using namespace istio_csr::test::e2e;

namespace {

constexpr int internal = 13;
const std::string sign_failure = "failed to sign certificate request";
const std::string verify_failure
  = "failed to parse and verify signed certificate from issuer";

struct fixture {
  std::unique_ptr<environment> env;
  std::string issuer;

  /// Starts an agent on a fresh CA Issuer backed by devcluster's istio-ca
  /// Secret, with `settings` (its issuer name is replaced).
  bool start(agent_settings settings) {
    issuer = test_cluster::unique_name("e2e-issuer");
    settings.issuer_name = issuer;
    env = environment::start(settings, [&](environment& e) {
      if (!e.cluster->has_devcluster_issuer())
        return std::string{"skip"};
      return create_ca_issuer(*e.cluster, issuer, "istio-ca");
    });
    if (env->error == "skip") {
      ICSR_SKIP("issuer behaviours need devcluster's issuer");
      return false;
    }
    env->require();
    return true;
  }

  void set_behaviour(const std::string& behaviour) {
    set_issuer_behaviour(*env->cluster, issuer, behaviour);
  }

  /// Calls with a fresh CSR, expects `code`/`message` and no CR left.
  call_result expect_failure(int code, const std::string& message,
                             call_options opts = {}) {
    auto csr = make_csr(env->identity);
    auto res = env->call(csr.pem, opts);
    CAF_CHECK_EQUAL(res.code, code);
    CAF_CHECK_EQUAL(res.message, message);
    CAF_CHECK(res.chain.empty());
    // The request was made and then cleaned up.
    CAF_CHECK(wait_until(
      [&] { return !find_request(*env->cluster, csr.pem).has_value(); }, 20s,
      100ms));
    return res;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(issuer_tests, fixture)

CAF_TEST(a denied request is an internal error) {
  if (!start({}))
    return;
  set_behaviour("deny");
  expect_failure(internal, sign_failure);
}

CAF_TEST(a failed request is an internal error) {
  if (!start({}))
    return;
  set_behaviour("fail");
  expect_failure(internal, sign_failure);
}

CAF_TEST(an issuer that never answers hits the request timeout) {
  agent_settings settings;
  settings.request_timeout = "3s";
  if (!start(settings))
    return;
  set_behaviour("never");
  auto csr = make_csr(env->identity);
  call_options opts;
  opts.timeout = 60s; // the server's deadline must be the one that fires
  auto res = env->call(csr.pem, opts);
  CAF_CHECK(retriable(res.code));
  CAF_CHECK(res.chain.empty());
  CAF_CHECK_GREATER_OR_EQUAL(res.elapsed.count(), 2900);
  CAF_CHECK_LESS(res.elapsed.count(), 30000);
  CAF_MESSAGE("answer after " << res.elapsed.count()
                              << " ms: " << res.describe());
  CAF_CHECK(wait_until(
    [&] { return !find_request(*env->cluster, csr.pem).has_value(); }, 20s,
    100ms));
}

CAF_TEST(a slow issuer within the request timeout succeeds) {
  agent_settings settings;
  settings.request_timeout = "20s";
  if (!start(settings))
    return;
  auto res = env->cluster->kubectl(
    {"annotate", "issuer", issuer, "-n", certificate_namespace,
     "devcluster.istio-csr.io/delay=2s", "--overwrite"});
  CAF_REQUIRE_EQUAL(res.exit_code, 0);
  set_behaviour("delay");
  auto answer = env->call(make_csr(env->identity).pem);
  CAF_CHECK(answer.ok());
  CAF_CHECK_GREATER_OR_EQUAL(answer.elapsed.count(), 1900);
  if (!answer.ok())
    CAF_MESSAGE(answer.describe());
}

CAF_TEST(a certificate for another key is refused and its request deleted) {
  // The issuer signs something else than the CSR the agent checked (here: a
  // fresh key). Even with --preserve-certificate-requests the request goes.
  agent_settings settings;
  settings.preserve = true;
  if (!start(settings))
    return;
  set_behaviour("wrong-key");
  expect_failure(internal, verify_failure);
  CAF_CHECK_NOT_EQUAL(
    env->csr_agent->log_tail(1 << 20).find("its public key is not the CSR's"),
    std::string::npos);
}

CAF_TEST(a certificate for another identity is refused and its request deleted) {
  agent_settings settings;
  settings.preserve = true;
  if (!start(settings))
    return;
  set_behaviour("wrong-identity");
  expect_failure(internal, verify_failure);
  CAF_CHECK_NOT_EQUAL(
    env->csr_agent->log_tail(1 << 20).find("are not the approved identities"),
    std::string::npos);
}

CAF_TEST(an issued chain that does not verify to the roots is refused) {
  // The agent trusts only a foreign root (--root-ca-file); the issuer signs
  // with devcluster's istio-ca.
  auto foreign = make_root("e2e foreign root");
  agent_settings settings;
  auto probe = environment::start(settings, [&](environment& e) {
    e.settings.root_ca_file = e.dir->write("roots.pem", foreign.cert.to_pem());
    return std::string{};
  });
  probe->require();
  auto csr = make_csr(probe->identity);
  auto res = probe->call(csr.pem);
  CAF_CHECK_EQUAL(res.code, internal);
  CAF_CHECK_EQUAL(res.message, verify_failure);
  CAF_CHECK(res.chain.empty());
}

CAF_TEST(an intermediate CA issuer gives a three element chain) {
  std::string root_pem;
  agent_settings settings;
  issuer = test_cluster::unique_name("e2e-intermediate");
  settings.issuer_name = issuer;
  env = environment::start(settings, [&](environment& e) -> std::string {
    if (!e.cluster->has_devcluster_issuer())
      return "skip";
    // An intermediate under devcluster's istio-ca root, as cert-manager's
    // CA issuer takes it: tls.crt = intermediate + root, ca.crt = root.
    std::string err;
    auto secret = kubectl_json(
      *e.cluster, {"get", "secret", "istio-ca", "-n", certificate_namespace},
      &err);
    if (secret.is_null())
      return err;
    auto root_cert
      = pki::certificate::from_pem(decoded(secret, {"data", "tls.crt"}));
    auto root_key
      = pki::private_key::from_pem(decoded(secret, {"data", "tls.key"}));
    if (!root_cert || !root_key)
      return "cannot read the istio-ca Secret";
    auto key = pki::private_key::generate_ec(256);
    if (!key)
      return "cannot make a key";
    pki::cert_template tmpl;
    tmpl.subject.common_name = "e2e intermediate";
    tmpl.subject.organizational_units = {"e2e"};
    tmpl.is_ca = true;
    tmpl.key_usage = pki::key_usage::cert_sign | pki::key_usage::crl_sign
                     | pki::key_usage::digital_signature;
    tmpl.not_before = std::chrono::system_clock::now() - 1h;
    tmpl.not_after = tmpl.not_before + 48h;
    auto inter = pki::issue(tmpl, key->public_key(), *root_cert, *root_key);
    if (!inter)
      return errors::message(inter.error());
    root_pem = root_cert->to_pem();
    json obj{
      {"apiVersion", "v1"},
      {"kind", "Secret"},
      {"type", "kubernetes.io/tls"},
      {"metadata", {{"name", issuer}, {"namespace", certificate_namespace}}},
      {"data",
       {{"tls.crt", kube::base64_encode(inter->to_pem() + root_pem)},
        {"tls.key", kube::base64_encode(key->to_pem())},
        {"ca.crt", kube::base64_encode(root_pem)}}}};
    auto res = e.cluster->kubectl({"apply", "-f", "-"}, obj.dump());
    if (res.exit_code != 0)
      return "kubectl apply secret: " + res.err;
    if (auto failed = create_ca_issuer(*e.cluster, issuer, issuer);
        !failed.empty())
      return failed;
    e.root_pem = root_pem;
    return {};
  });
  if (env->error == "skip") {
    ICSR_SKIP("needs devcluster's issuer");
    return;
  }
  env->require();
  auto csr = make_csr(env->identity);
  auto res = env->call(csr.pem);
  CAF_REQUIRE(res.ok());
  CAF_REQUIRE_EQUAL(res.chain.size(), 3u);
  auto chain = parse_response(res.chain);
  CAF_CHECK(chain.leaf.matches(csr.key));
  auto issuer_dn = chain.leaf.issuer();
  CAF_CHECK_EQUAL(issuer_dn.organizational_units,
                  std::vector<std::string>{"e2e"});
  CAF_CHECK_EQUAL(res.chain.back(), root_pem);
  auto err = pki::verify_chain(chain.leaf, chain.intermediates, chain.roots,
                               pki::verify_purpose::client_auth);
  auto err_text = errors::message(err);
  CAF_CHECK_EQUAL(err_text, "");
  auto verified
    = openssl_verify(*env->dir, root_pem, {res.chain[1]}, res.chain[0]);
  CAF_CHECK_EQUAL(verified, "");
}

CAF_TEST_FIXTURE_SCOPE_END()
