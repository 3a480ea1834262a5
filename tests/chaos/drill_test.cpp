// The chaos drill as a test (tests/chaos/drill.hpp, docs/chaos.md): 10 s
// at 20 calls/s, seed 7, in `make test`; `make chaos` (scripts/run-chaos)
// runs the same suite for 60 s at 200 calls/s. The environment tunes it:
// CHAOS_DURATION (a Go duration), CHAOS_SEED, CHAOS_RATE, CHAOS_REPORT (a
// file that also gets the Markdown report), CHAOS_KILL_INTERVAL ("" turns
// chaos mode off) and CHAOS_FAULTS=0 (no API server faults) to tell their
// effects apart; CHAOS_LOG_DIR (a directory) keeps the agents' logs.

#define CAF_SUITE chaos.drill

#include "caf/test/unit_test.hpp"

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include "config/go_duration.hpp"
#include "tests/chaos/drill.hpp"
#include "tests/support/skip.hpp"

using namespace istio_csr::test::chaos;

namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string{} : std::string{value};
}

} // namespace

CAF_TEST(restarts faults and churn under load lose nothing) {
  if (!env("ISTIO_CSR_TEST_KUBECONFIG").empty()) {
    ICSR_SKIP("the drill injects devcluster's faults; it ignores "
              "ISTIO_CSR_TEST_KUBECONFIG");
    return;
  }
  drill_options opts;
  opts.duration = std::chrono::seconds{10};
  opts.rate = 20;
  opts.seed = 7;
  if (auto d = env("CHAOS_DURATION"); !d.empty()) {
    auto parsed = istio_csr::config::parse_go_duration(d);
    CAF_REQUIRE(static_cast<bool>(parsed));
    opts.duration
      = std::chrono::duration_cast<std::chrono::milliseconds>(*parsed);
  }
  if (auto s = env("CHAOS_SEED"); !s.empty())
    opts.seed = std::stoull(s);
  if (auto r = env("CHAOS_RATE"); !r.empty())
    opts.rate = std::stod(r);
  if (const char* k = std::getenv("CHAOS_KILL_INTERVAL"))
    opts.kill_interval = k; // "" turns chaos mode off
  if (env("CHAOS_FAULTS") == "0")
    opts.faults = false;
  opts.log_dir = env("CHAOS_LOG_DIR");
  auto report = run_drill(opts, std::cerr);
  print_report(opts, report, std::cout);
  if (auto file = env("CHAOS_REPORT"); !file.empty()) {
    std::ofstream out{file};
    print_report(opts, report, out);
  }
  for (const auto& check : report.checks)
    CAF_MESSAGE(check);
  if (!report.passed())
    CAF_FAIL("the drill failed: " << report.failure);
}
