// The registry and its families: upstream's and istiod's names, types and
// labels, pre-initialised series, bounded labels, promtool's verdict.
#define CAF_SUITE metrics.registry

#include "caf/test/unit_test.hpp"

#include <string>

#include "metrics/citadel.hpp"
#include "metrics/controller.hpp"
#include "metrics/grpc_server.hpp"
#include "metrics/handles.hpp"
#include "metrics/istio_csr.hpp"
#include "metrics/registry.hpp"
#include "metrics/rest_client.hpp"
#include "tests/support/promtool.hpp"

using namespace istio_csr;

namespace {

bool has(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

} // namespace

CAF_TEST(upstream families exist before the first call) {
  auto text = metrics::scrape();
  const std::string method
    = "grpc_method=\"CreateCertificate\",grpc_service=\"istio.v1.auth."
      "IstioCertificateService\",grpc_type=\"unary\"";
  CAF_CHECK(has(text, "# TYPE cert_manager_istio_csr_grpc_server_started_total "
                      "counter"));
  CAF_CHECK(has(text, "cert_manager_istio_csr_grpc_server_started_total{"
                        + method + "}"));
  for (auto code :
       {"OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded",
        "NotFound", "AlreadyExists", "PermissionDenied", "ResourceExhausted",
        "FailedPrecondition", "Aborted", "OutOfRange", "Unimplemented",
        "Internal", "Unavailable", "DataLoss", "Unauthenticated"})
    CAF_CHECK(has(text, "cert_manager_istio_csr_grpc_server_handled_total{"
                        "grpc_code=\""
                          + std::string{code} + "\","));
  CAF_CHECK(has(text, "# TYPE cert_manager_istio_csr_grpc_server_handling_"
                      "seconds histogram"));
  // DefBuckets.
  for (auto le : {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1",
                  "2.5", "5", "10", "+Inf"})
    CAF_CHECK(has(text, "cert_manager_istio_csr_grpc_server_handling_seconds_"
                        "bucket{"
                          + method + ",le=\"" + le + "\"}"));
  CAF_CHECK(
    has(text, "cert_manager_istio_csr_grpc_server_msg_received_total{"));
  CAF_CHECK(has(text, "cert_manager_istio_csr_grpc_server_msg_sent_total{"));
  CAF_CHECK(has(text, "cert_manager_istio_csr_tls_provider_certificate_"
                      "requests{success=\"1\"}"));
  CAF_CHECK(has(text, "cert_manager_istio_csr_tls_provider_certificate_"
                      "requests{success=\"0\"}"));
  CAF_CHECK(has(text, "leader_election_master_status{name=\"istio-csr\"} 0"));
  for (auto name : {"citadel_server_csr_count",
                    "citadel_server_authentication_failure_count",
                    "citadel_server_csr_parsing_err_count",
                    "citadel_server_id_extraction_err_count",
                    "citadel_server_success_cert_issuance_count"})
    CAF_CHECK(has(text, "# TYPE " + std::string{name} + " counter"));
  CAF_CHECK(
    has(text, "# TYPE citadel_server_root_cert_expiry_timestamp gauge"));
  CAF_CHECK(has(text, "# TYPE istio_csr_requests_in_flight gauge"));
  CAF_CHECK(has(text, "# TYPE istio_csr_issuer_wait_seconds histogram"));
  for (auto name :
       {"process_cpu_seconds_total", "process_resident_memory_bytes",
        "process_virtual_memory_bytes", "process_open_fds", "process_max_fds",
        "process_start_time_seconds"})
    CAF_CHECK(has(text, "\n" + std::string{name} + " "));
}

CAF_TEST(go code names are CamelCase) {
  CAF_CHECK_EQUAL(metrics::go_code_name(0), "OK");
  CAF_CHECK_EQUAL(metrics::go_code_name(1), "Canceled");
  CAF_CHECK_EQUAL(metrics::go_code_name(14), "Unavailable");
  CAF_CHECK_EQUAL(metrics::go_code_name(16), "Unauthenticated");
  CAF_CHECK_EQUAL(metrics::go_code_name(99), "Unknown");
}

CAF_TEST(controller families are pre - initialised per controller) {
  auto c = metrics::controller("test-controller");
  c.max_concurrent_reconciles.set(3);
  c.reconcile_success.inc();
  auto text = metrics::scrape();
  for (auto result : {"error", "requeue", "requeue_after"})
    CAF_CHECK(has(text, "controller_runtime_reconcile_total{controller=\"test-"
                        "controller\",result=\""
                          + std::string{result} + "\"} 0"));
  CAF_CHECK(has(text, "controller_runtime_reconcile_total{controller=\"test-"
                      "controller\",result=\"success\"} 1"));
  CAF_CHECK(has(text, "controller_runtime_reconcile_errors_total{controller="
                      "\"test-controller\"} 0"));
  CAF_CHECK(has(text, "controller_runtime_max_concurrent_reconciles{"
                      "controller=\"test-controller\"} 3"));
  CAF_CHECK(has(text, "workqueue_depth{name=\"test-controller\"} 0"));
  CAF_CHECK(has(text, "workqueue_unfinished_work_seconds{name=\"test-"
                      "controller\"} 0"));
  // Running work shows in the scrape-time gauges.
  auto id = c.running->start();
  auto [sum, longest] = c.running->seconds();
  CAF_CHECK_GREATER_OR_EQUAL(sum, 0.0);
  CAF_CHECK_EQUAL(sum, longest);
  c.running->finish(id);
  CAF_CHECK_EQUAL(c.running->seconds().first, 0.0);
}

CAF_TEST(labels stay bounded) {
  CAF_CHECK_EQUAL(metrics::actor_label("configmap/default"), "configmap");
  CAF_CHECK_EQUAL(metrics::actor_label("csr-signer-3"), "csr-signer");
  CAF_CHECK_EQUAL(metrics::actor_label("csr-signer"), "csr-signer");
  CAF_CHECK_EQUAL(metrics::actor_label("leader-election"), "leader-election");
  metrics::ours().actor_restarts("configmap/ns-a").inc();
  metrics::ours().actor_restarts("configmap/ns-b").inc();
  auto text = metrics::scrape();
  CAF_CHECK(has(text, "istio_csr_actor_restarts_total{actor=\"configmap\"} 2"));
  CAF_CHECK(!has(text, "ns-a"));
  metrics::rest_client_request("GET", 200, "127.0.0.1:6443", 0.01);
  metrics::rest_client_request("GET", 0, "127.0.0.1:6443", 0.01);
  text = metrics::scrape();
  CAF_CHECK(has(text, "rest_client_requests_total{code=\"200\",host=\"127.0.0."
                      "1:6443\",method=\"GET\"} 1"));
  CAF_CHECK(has(text, "rest_client_requests_total{code=\"<error>\",host=\"127."
                      "0.0.1:6443\",method=\"GET\"} 1"));
  CAF_CHECK(has(text, "rest_client_request_duration_seconds_count{host=\"127.0."
                      "0.1:6443\",verb=\"GET\"} 2"));
}

CAF_TEST(a gauge hold gives its unit back once) {
  auto g = metrics::ours().certificate_requests_waiting;
  auto before = g.value();
  {
    metrics::gauge_hold a{g};
    CAF_CHECK_EQUAL(g.value(), before + 1);
    metrics::gauge_hold b = std::move(a);
    CAF_CHECK_EQUAL(g.value(), before + 1);
    b.release();
    CAF_CHECK_EQUAL(g.value(), before);
  }
  CAF_CHECK_EQUAL(g.value(), before);
}

CAF_TEST(the exposition passes promtool) {
  metrics::citadel().sign_error("timed_out").inc();
  metrics::ours().tls_handshake_failures("timeout").inc();
  auto problems = test::promtool_problems(metrics::scrape());
  CAF_CHECK_EQUAL(problems, "");
}
