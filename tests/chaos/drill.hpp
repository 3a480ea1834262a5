#pragma once

// The chaos drill: two agent replicas under load while the API server
// fails requests and drops watches, chaos mode kills actors, a replica is
// SIGKILLed and restarted, and namespaces come and go; then everything
// calms down and the drill checks that nothing was lost (docs/chaos.md).

#include <chrono>
#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

namespace istio_csr::test::chaos {

/// How a drill runs.
struct drill_options {
  /// How long the load and the chaos last.
  std::chrono::milliseconds duration{60000};
  /// Seeds the faults, the chaos monkeys (seed, seed + 1) and the namespace
  /// churn: the same seed replays the same choices.
  uint64_t seed = 1;
  /// Calls started per second (open loop, istio-agent's retry policy).
  double rate = 200;
  /// Chaos mode's interval in each replica; empty: no chaos mode.
  std::string kill_interval = "100ms";
  /// Inject the API server faults (off: to tell their effect from chaos
  /// mode's).
  bool faults = true;
  /// `--certificate-request-timeout` of the agents.
  std::chrono::seconds certificate_request_timeout{10};
  /// Namespaces created, relabelled and deleted per second.
  double churn_rate = 4;
  /// When not empty, the agents' logs are written into this directory
  /// (`replica-N.log`, `replica-1-killed.log`, `replica-0-terminated.log`)
  /// for diagnosis.
  std::string log_dir;
};

/// What a drill found.
struct drill_report {
  std::string failure;             ///< empty when every check passed
  std::vector<std::string> checks; ///< "ok: ..." / "FAILED: ..."
  uint64_t attempted = 0;
  uint64_t ok = 0;
  uint64_t failed = 0;
  uint64_t retries = 0;
  uint64_t verify_failed = 0;
  std::map<std::string, uint64_t> errors; ///< after all retries, by code
  /// One message per code, as the load tool saw it.
  std::map<std::string, std::string> error_messages;
  double latency_p50_ms = 0, latency_p99_ms = 0, latency_max_ms = 0;
  uint64_t leaked_certificate_requests = 0;
  size_t namespaces_checked = 0;
  size_t namespaces_wrong = 0;
  size_t lease_holders = 0;
  /// Replica 0, stopped with SIGTERM at three quarters of the run.
  int sigterm_exit_code = -1;
  double sigterm_seconds = 0;
  std::map<std::string, uint64_t> restarts; ///< by actor, both replicas
  uint64_t kills = 0;
  uint64_t faults_injected = 0;
  size_t namespaces_created = 0, relabels = 0, deletions = 0;
  double seconds = 0;

  bool passed() const {
    return failure.empty();
  }
};

/// Runs the drill against a devcluster it starts; returns its report.
drill_report run_drill(const drill_options& opts, std::ostream& log);

/// The report as Markdown (docs/chaos.md records one).
void print_report(const drill_options& opts, const drill_report& r,
                  std::ostream& out);

} // namespace istio_csr::test::chaos
