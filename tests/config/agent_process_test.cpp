#define CAF_SUITE config.agent_process
#include "caf/test/unit_test.hpp"

#include "config/parse.hpp"
#include "tests/support/check_case.hpp"
#include "tests/support/process.hpp"

using namespace istio_csr;
using istio_csr::test::bin;
using istio_csr::test::run;

namespace {

bool contains(const std::string& s, std::string_view needle) {
  return s.find(needle) != std::string::npos;
}

} // namespace

CAF_TEST(help exits zero and lists every flag) {
  auto res = run({bin("istio-csr"), "--help"}, std::chrono::seconds{30});
  CAF_CHECK_EQUAL(res.exit_code, 0);
  CAF_CHECK(contains(res.out, "Usage: istio-csr"));
  CAF_CHECK(res.err.empty());
  for (auto& f : config::flags())
    ICSR_CHECK_CASE(contains(res.out, "--" + f.long_name + " ")
                      || contains(res.out, "--" + f.long_name + "\n"),
                    f.long_name);
}

CAF_TEST(version exits zero) {
  auto res = run({bin("istio-csr"), "--version"}, std::chrono::seconds{30});
  CAF_CHECK_EQUAL(res.exit_code, 0);
  CAF_CHECK_EQUAL(res.out, "istio-csr " + config::version() + "\n");
}

CAF_TEST(fatal conditions exit non zero with the message on stderr) {
  struct row {
    std::vector<std::string> args;
    std::map<std::string, std::string> env;
    std::string message;
  };
  std::vector<row> rows{
    {{"--log-format=xml"},
     {},
     "invalid log-format; must be either \"text\" or \"json\""},
    {{"--serving-tls-min-version=VersionTLS11"},
     {},
     "serving tls min version must be VersionTLS12 or higher"},
    {{"--issuer-enabled=false"},
     {},
     "runtime configuration parameters for name and namespace are required "
     "if no issuerRef is provided on startup"},
    {{"--no-such-flag"}, {}, "unknown flag: --no-such-flag"},
    {{}, {{"TOKEN_AUDIENCES", "a,,b"}}, "TOKEN_AUDIENCES must be"},
  };
  for (auto& r : rows) {
    std::vector<std::string> argv{bin("istio-csr")};
    argv.insert(argv.end(), r.args.begin(), r.args.end());
    auto res = run(argv, std::chrono::seconds{30}, {}, r.env);
    ICSR_CHECK_CASE(res.exit_code == 1, r.message << ": " << res.exit_code);
    ICSR_CHECK_CASE(contains(res.err, "Error: " + r.message), res.err);
    ICSR_CHECK_CASE(res.out.empty(), res.out);
  }
}

CAF_TEST(a valid configuration starts and never logs the token) {
  // Without a kubeconfig and outside a cluster the agent stops at the
  // Kubernetes client (exit 1); it must have logged its settings by then.
  // (tests/actors/signing/agent_test.cpp runs it against a cluster.)
  auto res = run({bin("istio-csr"), "--token=s3cr3t-token-value",
                  "--log-format=json", "--serving-address=127.0.0.1:0"},
                 std::chrono::seconds{30}, {},
                 {{"KUBERNETES_SERVICE_HOST", ""},
                  {"KUBECONFIG", "/nonexistent/kubeconfig"}});
  CAF_CHECK_EQUAL(res.exit_code, 1);
  CAF_CHECK(contains(res.err, "error running cert-manager-istio-csr"));
  CAF_CHECK(contains(res.err, "\"msg\":\"starting istio-csr\""));
  CAF_CHECK(contains(res.err, "\"serving-address\":\"127.0.0.1:0\""));
  CAF_CHECK(!contains(res.err, "s3cr3t"));
  CAF_CHECK(!contains(res.out, "s3cr3t"));
}
