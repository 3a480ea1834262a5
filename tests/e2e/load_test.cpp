// csrctl load as a process against the real agent: the "done when"
// (it reports errors by code when the agent refuses, it stops at the
// duration, its JSON parses), an exact --count seen by the agent's own
// counter, an interrupt that still reports, and bad flags. No check
// depends on speed (benchmarks measure that). The driver's logic in
// virtual time: tests/csrctl/load_driver_test.cpp.

#define CAF_SUITE e2e.load

#include "tests/e2e/fixture.hpp"

#include <csignal>
#include <set>

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

/// The keys csrctl/README.md documents for `csrctl load --json`.
const std::set<std::string> documented_keys{"settings",
                                            "total",
                                            "ok",
                                            "errors",
                                            "error_messages",
                                            "verify_failed",
                                            "verify_message",
                                            "retries",
                                            "skipped",
                                            "abandoned",
                                            "interrupted",
                                            "elapsed_seconds",
                                            "throughput",
                                            "calls_per_second",
                                            "latency_ms"};

struct fixture {
  environment& env = shared();
  temp_dir dir;
  /// A namespace of this test for the load-N service accounts.
  std::string ns = test_cluster::unique_name("load");

  fixture() {
    env.require();
    auto r = env.cluster->kubectl({"create", "namespace", ns});
    CAF_REQUIRE_EQUAL(r.exit_code, 0);
  }

  ~fixture() {
    env.cluster->kubectl(
      {"delete", "namespace", ns, "--ignore-not-found", "--wait=false"});
  }

  std::vector<std::string> argv(const std::vector<std::string>& args) const {
    std::vector<std::string> out{bin("csrctl"),  "load",
                                 "--kubeconfig", env.cluster->kubeconfig(),
                                 "--address",    env.csr_agent->address(),
                                 "--namespace",  ns,
                                 "--key",        "ecdsa"};
    out.insert(out.end(), args.begin(), args.end());
    return out;
  }

  /// Runs `csrctl load` to its end (generous deadline).
  command_result load(const std::vector<std::string>& args) {
    auto res = run(argv(args), 180s);
    CAF_MESSAGE("csrctl load exit " << res.exit_code << "\n"
                                    << res.out << res.err);
    return res;
  }

  /// stdout as exactly one JSON object.
  static json report(const command_result& res) {
    auto j = json::parse(res.out, nullptr, false);
    CAF_REQUIRE(j.is_object());
    return j;
  }

  double csr_count() const {
    return metric_sample(env.csr_agent->scrape(), "citadel_server_csr_count");
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(load_tests, fixture)

CAF_TEST(a short run succeeds and its JSON parses) {
  auto res = load({"--count", "12", "--concurrency", "3", "--connections", "2",
                   "--identities", "3", "--verify", "--json"});
  CAF_REQUIRE_EQUAL(res.exit_code, 0);
  auto j = report(res);
  std::set<std::string> keys;
  for (const auto& item : j.items())
    keys.insert(item.key());
  CAF_CHECK_EQUAL(keys, documented_keys);
  CAF_CHECK_EQUAL(j["total"], 12);
  CAF_CHECK_EQUAL(j["ok"], 12);
  CAF_CHECK_EQUAL(j["errors"], json::object());
  CAF_CHECK_EQUAL(j["verify_failed"], 0);
  CAF_CHECK_EQUAL(j["interrupted"], false);
  CAF_CHECK(j["throughput"].get<double>() > 0);
  for (const auto* p : {"p50", "p90", "p99", "max"})
    CAF_CHECK(j["latency_ms"][p].is_number());
  CAF_CHECK(j["latency_ms"]["p50"].get<double>()
            <= j["latency_ms"]["max"].get<double>());
  CAF_CHECK_EQUAL(j["settings"]["identities"], 3);
  CAF_CHECK_EQUAL(j["settings"]["connections"], 2);
  CAF_CHECK_EQUAL(j["settings"]["verify"], true);
  // The identities are service accounts load-0..2, created for the run.
  for (const auto* sa : {"load-0", "load-1", "load-2"})
    CAF_CHECK_EQUAL(
      env.cluster->kubectl({"get", "serviceaccount", sa, "-n", ns}).exit_code,
      0);
  // Progress lines only go to a terminal; stderr says what was prepared.
  CAF_CHECK(contains(res.err, "csrctl: 3 identities ready"));
  CAF_CHECK(!contains(res.err, "\x1b[K"));
}

CAF_TEST(the summary reports a refusal by code) {
  auto res = load({"--service-account", "default", "--no-token", "--count", "5",
                   "--concurrency", "2"});
  CAF_CHECK_EQUAL(res.exit_code, 1);
  CAF_CHECK(contains(res.out, "  ok             0\n"));
  CAF_CHECK(contains(res.out, "  errors         5: UNAUTHENTICATED 5\n"));
  CAF_CHECK(
    contains(res.out, "UNAUTHENTICATED: request authenticate failure\n"));
  // UNAUTHENTICATED is not retried, with istio-agent's policy on.
  CAF_CHECK(contains(res.out, "retry on"));
  CAF_CHECK(contains(res.out, "  retries        0\n"));
  CAF_CHECK(contains(res.out, "  latency (ok)   -\n"));
}

CAF_TEST(an identity the agent refuses is counted by code in the JSON) {
  // A valid token of load-0 asking for an identity in another trust domain.
  auto res = load({"--identities", "1", "--trust-domain", "other.domain",
                   "--count", "4", "--concurrency", "2", "--json"});
  CAF_CHECK_EQUAL(res.exit_code, 1);
  auto j = report(res);
  CAF_CHECK_EQUAL(j["total"], 4);
  CAF_CHECK_EQUAL(j["ok"], 0);
  CAF_CHECK_EQUAL(j["errors"], (json{{"UNAUTHENTICATED", 4}}));
  CAF_CHECK(j["error_messages"]["UNAUTHENTICATED"].is_string());
  CAF_CHECK(j["latency_ms"]["p50"].is_null());
}

CAF_TEST(a duration run stops and reports) {
  auto res = load({"--duration", "2s", "--concurrency", "2", "--json"});
  CAF_REQUIRE_EQUAL(res.exit_code, 0);
  auto j = report(res);
  CAF_CHECK_EQUAL(j["settings"]["duration_seconds"].get<double>(), 2.0);
  CAF_CHECK(j["settings"]["count"].is_null());
  CAF_CHECK(j["total"].get<int>() > 0);
  CAF_CHECK_EQUAL(j["ok"], j["total"]);
  // It ran at least the duration (and ended: the process exited).
  CAF_CHECK(j["elapsed_seconds"].get<double>() >= 2.0);
}

CAF_TEST(count gives exactly that many calls) {
  auto before = csr_count();
  CAF_REQUIRE(before >= 0);
  auto res = load({"--count", "7", "--concurrency", "3", "--json"});
  CAF_REQUIRE_EQUAL(res.exit_code, 0);
  auto j = report(res);
  CAF_CHECK_EQUAL(j["total"], 7);
  CAF_CHECK_EQUAL(j["ok"], 7);
  CAF_CHECK_EQUAL(j["retries"], 0);
  // The agent saw exactly 7 CSRs.
  CAF_CHECK_EQUAL(csr_count() - before, 7.0);
  // With a rate: starts, made or skipped.
  auto paced = load({"--rate", "20", "--count", "6", "--json"});
  CAF_REQUIRE_EQUAL(paced.exit_code, 0);
  auto p = report(paced);
  CAF_CHECK_EQUAL(p["total"].get<int>() + p["skipped"].get<int>(), 6);
  CAF_CHECK_EQUAL(p["settings"]["rate"].get<double>(), 20.0);
}

CAF_TEST(an interrupt stops the run and still reports) {
  auto child = child_process::spawn(
    argv({"--duration", "10m", "--concurrency", "2", "--json"}));
  CAF_REQUIRE(child != nullptr);
  // Interrupted once the run has begun.
  CAF_REQUIRE(child->wait_for_line("csrctl: running", 120s, true));
  child->signal(SIGINT);
  auto code = child->wait_exit(120s);
  CAF_REQUIRE(code);
  CAF_CHECK_EQUAL(*code, 130);
  auto j = json::parse(child->out(), nullptr, false);
  CAF_REQUIRE(j.is_object());
  CAF_CHECK_EQUAL(j["interrupted"], true);
  CAF_CHECK_EQUAL(j["errors"], json::object());
}

CAF_TEST(bad flags are refused with a clear error) {
  struct bad_case {
    std::vector<std::string> args;
    std::string says;
  };
  for (const auto& c : std::vector<bad_case>{
         {{"--concurrency", "0"}, "--concurrency must be 1 to 10000"},
         {{"--concurrency", "20000"}, "--concurrency must be 1 to 10000"},
         {{"--concurrency", "2", "--connections", "3"},
          "cannot exceed the callers"},
         {{"--identities", "0"}, "--identities must be 1 to 10000"},
         {{"--identities", "2", "--service-account", "default"},
          "not with --service-account"},
         {{"--rate", "0"}, "--rate must be above 0"},
         {{"--count", "0"}, "--count must be 1 to"},
         {{"--duration", "48h"}, "--duration must be above 0 and at most 24h"},
         {{"--no-token"}, "--service-account names the identity"},
         {{"--impersonate", "spiffe://cluster.local/ns/a/sa/b"},
          "--impersonate asks as one trusted node agent"},
         {{"--duration", "2h", "--token-expiration", "1h"},
          "--token-expiration must outlast --duration"}}) {
    auto res = run(argv(c.args), 60s);
    CAF_CHECK_EQUAL(res.exit_code, 2);
    if (!contains(res.err, c.says))
      CAF_FAIL("for " << c.args.front() << ": expected \"" << c.says
                      << "\" in: " << res.err);
    CAF_CHECK(res.out.empty());
  }
}

CAF_TEST_FIXTURE_SCOPE_END()
