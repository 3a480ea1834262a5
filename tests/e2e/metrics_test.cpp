// /metrics of the real agent after real calls (csrctl as a process, and
// grpc++ for a CSR csrctl would never send): N signed CSRs and M refusals
// of known kinds show as exactly those counts in upstream's gRPC families
// and istiod's CA families; the handling-time histogram counts N+M; the
// grpc_code labels are the answers; promtool accepts the exposition; the
// leader's status and its Event show; the controllers and the kube client
// report; calls with one token within the TokenReview cache's TTL cost one
// review.

#define CAF_SUITE e2e.metrics

#include "tests/e2e/fixture.hpp"

#include <sstream>

#include "tests/support/promtool.hpp"

using namespace istio_csr;
using namespace istio_csr::test;
using namespace istio_csr::test::e2e;

namespace {

environment& shared() {
  static std::unique_ptr<environment> env = [] {
    agent_settings s;
    s.trust_domain = "cluster.local"; // csrctl's default
    s.metrics = true;
    return environment::start(s);
  }();
  return *env;
}

const std::string method
  = "grpc_method=\"CreateCertificate\",grpc_service=\"istio.v1.auth."
    "IstioCertificateService\",grpc_type=\"unary\"";

/// Samples whose series start with `prefix`.
std::vector<std::string> samples_of(const std::string& text,
                                    const std::string& prefix) {
  std::vector<std::string> result;
  std::istringstream lines{text};
  for (std::string line; std::getline(lines, line);)
    if (line.compare(0, prefix.size(), prefix) == 0)
      result.push_back(line);
  return result;
}

struct fixture {
  environment& env = shared();
  temp_dir dir;

  fixture() {
    env.require();
  }

  command_result csrctl(std::vector<std::string> args) {
    std::vector<std::string> argv{
      bin("csrctl"),       "request",
      "--kubeconfig",      env.cluster->kubeconfig(),
      "--address",         env.csr_agent->address(),
      "--namespace",       env.workload_namespace,
      "--service-account", env.service_account};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, 60s);
  }

  std::string scrape() {
    auto text = env.csr_agent->scrape();
    CAF_REQUIRE(!text.empty());
    return text;
  }

  /// Scrapes until `pred` holds on the text (deadline 30 s).
  std::string
  scrape_until(const std::function<bool(const std::string&)>& pred) {
    std::string text;
    wait_until(
      [&] {
        text = env.csr_agent->scrape();
        return pred(text);
      },
      30s, 100ms);
    return text;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(metrics_tests, fixture)

CAF_TEST(counts of signed and refused requests are exact in both families) {
  auto before = scrape();
  // A fresh agent: nothing called it yet, yet every upstream series exists.
  CAF_CHECK_EQUAL(
    sample(before,
           "cert_manager_istio_csr_grpc_server_started_total{" + method + "}"),
    0);
  CAF_CHECK_EQUAL(sample(before, "cert_manager_istio_csr_grpc_server_handled_"
                                 "total{grpc_code=\"OK\","
                                   + method + "}"),
                  0);
  CAF_CHECK_EQUAL(sample(before, "citadel_server_csr_count"), 0);
  // N = 3 signed, by csrctl.
  constexpr int signed_count = 3;
  for (int i = 0; i < signed_count; ++i) {
    auto res = csrctl({});
    CAF_CHECK_EQUAL(res.exit_code, 0);
    if (res.exit_code != 0)
      CAF_MESSAGE(res.out << res.err);
  }
  // M = 4 refusals (all UNAUTHENTICATED): two tokens the TokenReview
  // rejects and an identity of another trust domain (authentication
  // failures), a CSR that does not parse (parsing error).
  auto token_file = dir.write("token", "not-a-token\n");
  for (int i = 0; i < 2; ++i) {
    auto res = csrctl({"--token-file", token_file});
    CAF_CHECK_EQUAL(res.exit_code, 1);
    CAF_CHECK(res.err.find("UNAUTHENTICATED") != std::string::npos);
  }
  auto other = csrctl({"--trust-domain", "other.domain"});
  CAF_CHECK_EQUAL(other.exit_code, 1);
  CAF_CHECK(other.err.find("UNAUTHENTICATED") != std::string::npos);
  auto garbage = env.call("-----BEGIN CERTIFICATE REQUEST-----\nnot a CSR\n"
                          "-----END CERTIFICATE REQUEST-----\n");
  CAF_CHECK_EQUAL(garbage.code, 16);
  constexpr int refused = 4;
  constexpr int total = signed_count + refused;

  auto text = scrape();
  auto g = [&](const std::string& name, const std::string& extra = {}) {
    return sample(text, "cert_manager_istio_csr_grpc_server_" + name + "{"
                          + extra + method + "}");
  };
  // Upstream's gRPC families.
  CAF_CHECK_EQUAL(g("started_total"), total);
  CAF_CHECK_EQUAL(g("msg_received_total"), total);
  CAF_CHECK_EQUAL(g("msg_sent_total"), signed_count);
  CAF_CHECK_EQUAL(g("handled_total", "grpc_code=\"OK\","), signed_count);
  CAF_CHECK_EQUAL(g("handled_total", "grpc_code=\"Unauthenticated\","),
                  refused);
  for (auto code : {"Canceled", "Unknown", "Internal", "Unavailable",
                    "ResourceExhausted", "DeadlineExceeded"})
    CAF_CHECK_EQUAL(
      g("handled_total", "grpc_code=\"" + std::string{code} + "\","), 0);
  CAF_CHECK_EQUAL(g("handling_seconds_count"), total);
  CAF_CHECK_EQUAL(sample(text, "cert_manager_istio_csr_grpc_server_handling_"
                               "seconds_bucket{"
                                 + method + ",le=\"+Inf\"}"),
                  total);
  // istiod's CA families.
  CAF_CHECK_EQUAL(sample(text, "citadel_server_csr_count"), total);
  CAF_CHECK_EQUAL(sample(text, "citadel_server_success_cert_issuance_count"),
                  signed_count);
  CAF_CHECK_EQUAL(sample(text, "citadel_server_authentication_failure_count"),
                  3);
  CAF_CHECK_EQUAL(sample(text, "citadel_server_csr_parsing_err_count"), 1);
  CAF_CHECK_EQUAL(sample(text, "citadel_server_id_extraction_err_count"), 0);
  CAF_CHECK(samples_of(text, "citadel_server_csr_sign_err_count{").empty());
  CAF_CHECK_GREATER(sample(text, "citadel_server_root_cert_expiry_timestamp"),
                    1.7e9);
  CAF_CHECK_GREATER(sample(text, "citadel_server_cert_chain_expiry_timestamp"),
                    1.7e9);
  // Ours.
  CAF_CHECK_EQUAL(sample(text, "istio_csr_requests_in_flight"), 0);
  CAF_CHECK_EQUAL(sample(text, "istio_csr_certificate_requests_waiting"), 0);
  CAF_CHECK_EQUAL(sample(text, "istio_csr_issuer_wait_seconds_count"),
                  signed_count);
  // Every caller was authenticated by a TokenReview (no client certs here).
  CAF_CHECK_EQUAL(sample(text, "istio_csr_token_review_duration_seconds_count"),
                  total);
  CAF_CHECK_GREATER(
    sample(text, "istio_csr_serving_certificate_expiry_timestamp_seconds"),
    1.7e9);
  CAF_CHECK_GREATER_OR_EQUAL(
    sample(text, "cert_manager_istio_csr_tls_provider_certificate_requests{"
                 "success=\"1\"}"),
    1);
  // The Kubernetes client: TokenReviews and CertificateRequests are POSTs
  // answered 201.
  CAF_CHECK(
    !samples_of(text, "rest_client_requests_total{code=\"201\"").empty());
  CAF_CHECK(
    !samples_of(text, "rest_client_request_duration_seconds_count{").empty());
  CAF_CHECK_GREATER(sample(text, "process_start_time_seconds"), 1.7e9);
  CAF_CHECK_GREATER(sample(text, "process_open_fds"), 0);
  CAF_CHECK_EQUAL(test::promtool_problems(text), "");
}

CAF_TEST(the leader reports its status its event and its controllers) {
  // The only replica acquires the Lease (2 s retry period).
  auto text = scrape_until([](const std::string& t) {
    return sample(t, "leader_election_master_status{name=\"istio-csr\"}") == 1
           && sample(t, "controller_runtime_reconcile_total{controller="
                        "\"configmap\",result=\"success\"}")
                > 0;
  });
  CAF_CHECK_EQUAL(
    sample(text, "leader_election_master_status{name=\"istio-csr\"}"), 1);
  CAF_CHECK_GREATER(sample(text,
                           "controller_runtime_reconcile_total{"
                           "controller=\"configmap\",result=\"success\"}"),
                    0);
  CAF_CHECK_GREATER(sample(text, "workqueue_adds_total{name=\"configmap\"}"),
                    0);
  CAF_CHECK_EQUAL(sample(text, "controller_runtime_reconcile_errors_total{"
                               "controller=\"configmap\"}"),
                  0);
  // client-go's LeaderElection Event, in the certificate namespace.
  json events;
  wait_until(
    [&] {
      events = kubectl_json(*env.cluster,
                            {"get", "events", "-n", certificate_namespace});
      if (!events.is_object())
        return false;
      for (const auto& ev : events.value("items", json::array()))
        if (ev.value("reason", "") == "LeaderElection")
          return true;
      return false;
    },
    30s, 200ms);
  bool found = false;
  for (const auto& ev : events.value("items", json::array())) {
    if (ev.value("reason", "") != "LeaderElection")
      continue;
    found = true;
    auto message = ev.value("message", "");
    CAF_CHECK(message.size() > 14
              && message.compare(message.size() - 14, 14, " became leader")
                   == 0);
    CAF_CHECK_EQUAL(ev["involvedObject"].value("kind", ""), "Lease");
    CAF_CHECK_EQUAL(ev["involvedObject"].value("name", ""), "istio-csr");
    CAF_CHECK_EQUAL(ev.value("type", ""), "Normal");
  }
  CAF_CHECK(found);
}

CAF_TEST(handshakes that never reach grpc count by reason) {
  auto series = "istio_csr_tls_handshake_failures_total{reason=\"not_tls\"}";
  auto before = std::max(sample(scrape(), series), 0.0);
  auto handshakes = sample(scrape(), "cert_manager_istio_csr_grpc_server_"
                                     "started_total{"
                                       + method + "}");
  // Plain HTTP to the TLS port: OpenSSL sees an HTTP request.
  auto res = run({program("curl"), "-sS", "--max-time", "10",
                  "http://" + env.csr_agent->address() + "/"},
                 30s);
  CAF_CHECK_NOT_EQUAL(res.exit_code, 0);
  auto text = scrape_until(
    [&](const std::string& t) { return sample(t, series) >= before + 1; });
  CAF_CHECK_EQUAL(sample(text, series), before + 1);
  // It never became a call.
  CAF_CHECK_EQUAL(sample(text, "cert_manager_istio_csr_grpc_server_started_"
                               "total{"
                                 + method + "}"),
                  handshakes);
}

CAF_TEST(one token reviewed once within the cache ttl) {
  // The agent runs with the default --token-review-cache-ttl (10 s): calls
  // with one fresh token cost one TokenReview, refusals are not cached.
  const std::string series = "istio_csr_token_review_duration_seconds_count";
  auto before = sample(scrape(), series);
  auto started = std::chrono::steady_clock::now();
  call_options opts;
  opts.token
    = mint_token(*env.cluster, env.workload_namespace, env.service_account);
  for (int i = 0; i < 3; ++i)
    CAF_CHECK(env.call(make_csr(env.identity).pem, opts).ok());
  call_options bad;
  bad.token = "not-a-token";
  for (int i = 0; i < 2; ++i)
    CAF_CHECK_EQUAL(env.call(make_csr(env.identity).pem, bad).code, 16);
  auto elapsed = std::chrono::steady_clock::now() - started;
  auto after = sample(scrape(), series);
  // Speed is not what this checks: on a machine so slow that the calls
  // took longer than the TTL, a second review of the good token is right.
  if (elapsed < 9s)
    CAF_CHECK_EQUAL(after - before, 3);
  else
    CAF_CHECK(after - before >= 3 && after - before <= 5);
}

CAF_TEST_FIXTURE_SCOPE_END()
