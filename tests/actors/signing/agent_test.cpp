#define CAF_SUITE signing_actors.agent
#include "caf/test/unit_test.hpp"
#include "errors/describe.hpp"

#include "tests/actors/signing/fixture.hpp"
#include "tests/support/agent.hpp"
#include "tests/support/sockets.hpp"

#include <csignal>
#include <sstream>

#include "csrctl/ca_call.hpp"

using namespace istio_csr;
using namespace istio_csr::test;
using namespace istio_csr::test::signing;

namespace {

/// The value of `field` in the first JSON log line whose `msg` is `msg`.
std::optional<std::string> log_field(const std::string& log,
                                     const std::string& msg,
                                     const std::string& field) {
  std::istringstream in{log};
  std::string line;
  while (std::getline(in, line)) {
    auto obj = json::parse(line, nullptr, false);
    if (obj.is_discarded() || !obj.is_object())
      continue;
    if (obj.value("msg", "") == msg && obj.contains(field))
      return obj[field].is_string() ? obj[field].get<std::string>()
                                    : obj[field].dump();
  }
  return std::nullopt;
}

} // namespace

CAF_TEST(the agent gets ready serves a call and stops on a TERM signal) {
  auto ns = make_namespace("agent");
  auto token = sa_token(ns, "app");
  auto id = spiffe_id(ns, "app");
  agent_options opts;
  opts.kubeconfig = cluster().kubeconfig();
  opts.args = {"--log-format=json", "--certificate-namespace=" + ns,
               "--serving-signature-algorithm=ECDSA",
               "--serving-certificate-key-size=256",
               "--serving-certificate-dns-names=istio-csr.test.svc"};
  opts.ready_timeout = 60s;
  std::string why;
  auto a = agent_process::start(opts, why);
  if (!a)
    CAF_FAIL(why);
  CAF_CHECK_EQUAL(http_status(a->readiness_port(), "/readyz/tls_provider"),
                  200);
  CAF_CHECK_EQUAL(http_status(a->readiness_port(), "/readyz/grpc_server"), 200);
  // One real call: TLS to our serving certificate (issued by the cluster's
  // CA, which is also the mesh root), bearer token, CSR.
  csrctl::ca_call call;
  call.address = a->address();
  call.server_name = "istio-csr.test.svc";
  call.root_pem = bootstrap_ca_pem();
  call.token = token;
  call.cluster_id = "Kubernetes";
  call.csr_pem = workload_csr({id});
  call.validity_seconds = 3600;
  auto res = csrctl::create_certificate(call);
  CAF_CHECK_EQUAL(res.code, 0);
  if (!res.ok())
    CAF_MESSAGE("call failed: " << res.message << "\n" << a->process().err());
  CAF_CHECK_EQUAL(res.cert_chain.size(), 2u);
  if (res.cert_chain.size() == 2)
    CAF_CHECK_EQUAL(res.cert_chain[1], bootstrap_ca_pem());
  CAF_CHECK(wait_no_crs(ns));
  // SIGTERM: a clean exit.
  a->process().signal(SIGTERM);
  auto code = a->process().wait_exit(60s);
  CAF_REQUIRE(code);
  CAF_CHECK_EQUAL(*code, 0);
  CAF_CHECK(log_field(a->process().err(), "shutting down", "signal"));
  CAF_CHECK_EQUAL(log_field(a->process().err(), "stopped", "v"), "0");
  CAF_CHECK(a->process().err().find(token) == std::string::npos);
  delete_test_namespaces();
}

CAF_TEST(startup errors exit 1 with a clear message) {
  struct row {
    std::vector<std::string> args;
    std::string error;
  };
  temp_dir dir;
  auto empty = dir.write("empty.pem", "");
  auto garbage = dir.write("garbage.pem", "-----BEGIN CERTIFICATE-----\nxx\n");
  auto kubeconfig = "--kubeconfig=" + cluster().kubeconfig();
  std::vector<row> rows{
    {{kubeconfig, "--root-ca-file=" + dir.file("missing.pem")},
     "failed to read root CA"},
    {{kubeconfig, "--root-ca-file=" + empty}, "root CA bundle is empty"},
    {{kubeconfig, "--root-ca-file=" + garbage}, "failed to load root CA file"},
    {{"--kubeconfig=" + dir.file("no-such-kubeconfig")},
     "Kubernetes client configuration"},
  };
  for (auto& r : rows) {
    std::vector<std::string> argv{bin("istio-csr"), "--log-format=json",
                                  "--serving-address=127.0.0.1:0",
                                  "--readiness-probe-port=0"};
    argv.insert(argv.end(), r.args.begin(), r.args.end());
    auto res = run(argv, 60s);
    CAF_CHECK_EQUAL(res.exit_code, 1);
    auto msg
      = log_field(res.err, "error running cert-manager-istio-csr", "err");
    CAF_CHECK(msg && msg->find(r.error) != std::string::npos);
    if (!msg || msg->find(r.error) == std::string::npos)
      CAF_MESSAGE("expected '" << r.error << "' in:\n" << res.err);
  }
}
