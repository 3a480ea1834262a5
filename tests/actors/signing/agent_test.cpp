#define CAF_SUITE signing_actors.agent
#include "caf/test/unit_test.hpp"
#include "errors/describe.hpp"

#include "tests/actors/signing/fixture.hpp"

#include <csignal>
#include <sstream>

#include <grpcpp/grpcpp.h>

#include "proto/ca.grpc.pb.h"

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

/// GET http://127.0.0.1:port/path with curl; the status code (0 if none).
int http_status(const std::string& port, const std::string& path) {
  auto res
    = run({program("curl"), "-s", "-o", "/dev/null", "-w", "%{http_code}",
           "--max-time", "5", "http://127.0.0.1:" + port + path},
          10s);
  return res.exit_code == 0 ? std::atoi(res.out.c_str()) : 0;
}

struct agent {
  std::unique_ptr<child_process> proc;

  explicit agent(const std::vector<std::string>& args) {
    std::vector<std::string> argv{bin("istio-csr"),
                                  "--log-format=json",
                                  "--kubeconfig=" + cluster().kubeconfig(),
                                  "--serving-address=127.0.0.1:0",
                                  "--readiness-probe-port=0",
                                  "--metrics-port=0"};
    argv.insert(argv.end(), args.begin(), args.end());
    proc = child_process::spawn(argv);
    CAF_REQUIRE(proc != nullptr);
  }

  std::optional<std::string> field(const std::string& msg,
                                   const std::string& name) {
    std::optional<std::string> result;
    wait_until(
      [&] {
        result = log_field(proc->err(), msg, name);
        return result.has_value() || !proc->running();
      },
      30s);
    return result;
  }
};

} // namespace

CAF_TEST(the agent gets ready serves a call and stops on a TERM signal) {
  auto ns = make_namespace("agent");
  auto token = sa_token(ns, "app");
  auto id = spiffe_id(ns, "app");
  agent a{{"--certificate-namespace=" + ns,
           "--serving-signature-algorithm=ECDSA",
           "--serving-certificate-key-size=256",
           "--serving-certificate-dns-names=istio-csr.test.svc"}};
  auto health_port = a.field("serving readiness", "port");
  CAF_REQUIRE(health_port);
  auto grpc_port = a.field("serving gRPC", "port");
  CAF_REQUIRE(grpc_port);
  CAF_CHECK(wait_until(
    [&] { return http_status(*health_port, "/readyz") == 200; }, 60s, 50ms));
  CAF_CHECK_EQUAL(http_status(*health_port, "/readyz/tls_provider"), 200);
  CAF_CHECK_EQUAL(http_status(*health_port, "/readyz/grpc_server"), 200);
  // One real call: TLS to our serving certificate (issued by the cluster's
  // CA, which is also the mesh root), bearer token, CSR.
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = bootstrap_ca_pem();
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride("istio-csr.test.svc");
  auto channel = grpc::CreateCustomChannel("127.0.0.1:" + *grpc_port,
                                           grpc::SslCredentials(ssl), args);
  auto stub = istio::v1::auth::IstioCertificateService::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Bearer " + token);
  ctx.AddMetadata("clusterid", "Kubernetes");
  ctx.set_deadline(std::chrono::system_clock::now() + 30s);
  istio::v1::auth::IstioCertificateRequest req;
  req.set_csr(workload_csr({id}));
  req.set_validity_duration(3600);
  istio::v1::auth::IstioCertificateResponse resp;
  auto status = stub->CreateCertificate(&ctx, req, &resp);
  CAF_CHECK_EQUAL(status.error_code(), grpc::StatusCode::OK);
  if (!status.ok())
    CAF_MESSAGE("call failed: " << status.error_message() << "\n"
                                << a.proc->err());
  CAF_CHECK_EQUAL(resp.cert_chain_size(), 2);
  if (resp.cert_chain_size() == 2)
    CAF_CHECK_EQUAL(resp.cert_chain(1), bootstrap_ca_pem());
  CAF_CHECK(wait_no_crs(ns));
  // SIGTERM: a clean exit.
  a.proc->signal(SIGTERM);
  auto code = a.proc->wait_exit(60s);
  CAF_REQUIRE(code);
  CAF_CHECK_EQUAL(*code, 0);
  CAF_CHECK(log_field(a.proc->err(), "shutting down", "signal"));
  CAF_CHECK(log_field(a.proc->err(), "stopped", "level"));
  CAF_CHECK(a.proc->err().find(token) == std::string::npos);
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
      = log_field(res.err, "error running cert-manager-istio-csr", "error");
    CAF_CHECK(msg && msg->find(r.error) != std::string::npos);
    if (!msg || msg->find(r.error) == std::string::npos)
      CAF_MESSAGE("expected '" << r.error << "' in:\n" << res.err);
  }
}
