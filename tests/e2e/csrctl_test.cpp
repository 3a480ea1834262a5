// csrctl as a process against the real agent: the "done when"
// (`csrctl request --namespace default --service-account default` prints a
// chain signed by devcluster's istio-ca issuer), PEM output, renewal with
// the issued certificate, key types and failures.

#define CAF_SUITE e2e.csrctl

#include "tests/e2e/fixture.hpp"

#include <sys/stat.h>

#include "pki/pem.hpp"
#include "pki/verify.hpp"

using namespace istio_csr;
using namespace istio_csr::test;
using namespace istio_csr::test::e2e;

namespace {

environment& shared() {
  static std::unique_ptr<environment> env = [] {
    agent_settings s;
    s.trust_domain = "cluster.local"; // csrctl's default
    s.client_cert_auth = true;
    return environment::start(s);
  }();
  return *env;
}

struct fixture {
  environment& env = shared();
  temp_dir dir;

  fixture() {
    env.require();
  }

  /// Runs `csrctl request` against the agent with `args`.
  command_result csrctl(std::vector<std::string> args) {
    std::vector<std::string> argv{bin("csrctl"),  "request",
                                  "--kubeconfig", env.cluster->kubeconfig(),
                                  "--address",    env.csr_agent->address()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto res = run(argv, 60s);
    CAF_MESSAGE("csrctl exit " << res.exit_code << "\n" << res.out << res.err);
    return res;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(csrctl_tests, fixture)

CAF_TEST(csrctl request prints a chain signed by the istio ca issuer) {
  auto res = csrctl({"--namespace", "default", "--service-account", "default"});
  CAF_REQUIRE_EQUAL(res.exit_code, 0);
  const std::string id = "spiffe://cluster.local/ns/default/sa/default";
  CAF_CHECK(contains(res.out, "identity: " + id + "\n"));
  CAF_CHECK(contains(res.out, "verified to the root bundle"));
  CAF_CHECK(contains(res.out, "URI SANs:   " + id + "\n"));
  CAF_CHECK(contains(res.out, "key:        RSA 2048\n"));
  // The leaf is issued by the root of devcluster's istio-ca Issuer.
  auto root = unwrap(pki::certificate::from_pem(env.root_pem));
  CAF_CHECK(contains(res.out, "issuer:     " + root.subject_oneline() + "\n"));
  CAF_CHECK(contains(res.out, "root bundle (1 certificate)"));
  CAF_CHECK(contains(res.err, "trusting the root of"));
  CAF_CHECK(!contains(res.out + res.err, "PRIVATE KEY"));
}

CAF_TEST(csrctl writes PEM and the key only when asked) {
  auto key_file = dir.file("key.pem");
  auto res = csrctl({"--namespace", env.workload_namespace, "--service-account",
                     env.service_account, "--key", "ecdsa", "-o", "pem",
                     "--key-out", key_file});
  CAF_REQUIRE_EQUAL(res.exit_code, 0);
  CAF_CHECK(!contains(res.out, "PRIVATE KEY"));
  auto certs = unwrap(pki::parse_pem_bundle(res.out, 1 << 20));
  CAF_REQUIRE(certs.size() >= 2);
  auto key = unwrap(pki::private_key::from_pem(read_file(key_file)));
  CAF_CHECK(certs.front().matches(key));
  CAF_CHECK(key.algorithm() == pki::key_algorithm::ec);
  struct stat st {};
  CAF_REQUIRE_EQUAL(::stat(key_file.c_str(), &st), 0);
  CAF_CHECK_EQUAL(st.st_mode & 0777, 0600u);
  auto last = certs.back().to_pem();
  CAF_CHECK_EQUAL(last, env.root_pem);
  auto verified = openssl_verify(dir, env.root_pem, {}, certs.front().to_pem());
  CAF_CHECK_EQUAL(verified, "");
  // Renewal with that certificate and key, no token.
  auto chain_file = dir.write("chain.pem", res.out);
  auto renewed
    = csrctl({"--namespace", env.workload_namespace, "--service-account",
              env.service_account, "--client-cert", chain_file, "--client-key",
              key_file, "--root-ca", dir.write("root.pem", env.root_pem)});
  CAF_CHECK_EQUAL(renewed.exit_code, 0);
  CAF_CHECK(contains(renewed.out, "verified to the root bundle"));
}

CAF_TEST(csrctl reports the gRPC code of a refusal) {
  auto token_file = dir.write("token", "not-a-token\n");
  auto res = csrctl({"--namespace", env.workload_namespace, "--service-account",
                     env.service_account, "--token-file", token_file});
  CAF_CHECK_EQUAL(res.exit_code, 1);
  CAF_CHECK(
    contains(res.err, "error: UNAUTHENTICATED: request authenticate failure"));
  CAF_CHECK(res.out.empty());
  // Asking for somebody else's identity with one's own token.
  auto other
    = csrctl({"--namespace", env.workload_namespace, "--service-account",
              env.service_account, "--trust-domain", "other.domain"});
  CAF_CHECK_EQUAL(other.exit_code, 1);
  CAF_CHECK(contains(other.err, "error: UNAUTHENTICATED"));
}

CAF_TEST(csrctl fails clearly without an agent or with bad options) {
  auto port = free_port();
  auto res
    = run({bin("csrctl"), "request", "--kubeconfig", env.cluster->kubeconfig(),
           "--namespace", "default", "--service-account", "default",
           "--address", "127.0.0.1:" + std::to_string(port), "--timeout", "5s"},
          60s);
  CAF_CHECK_EQUAL(res.exit_code, 1);
  CAF_CHECK(contains(res.err, "error: UNAVAILABLE")
            || contains(res.err, "error: DEADLINE_EXCEEDED"));
  auto usage = run({bin("csrctl"), "request", "--namespace", "default"}, 60s);
  CAF_CHECK_EQUAL(usage.exit_code, 2);
  CAF_CHECK(contains(usage.err, "--service-account"));
  auto no_sa
    = run({bin("csrctl"), "request", "--kubeconfig", env.cluster->kubeconfig(),
           "--namespace", "default", "--service-account", "does-not-exist",
           "--address", env.csr_agent->address()},
          60s);
  CAF_CHECK_EQUAL(no_sa.exit_code, 2);
  CAF_CHECK(contains(no_sa.err, "TokenRequest"));
}

CAF_TEST_FIXTURE_SCOPE_END()
