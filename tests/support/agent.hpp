#pragma once

// The real istio-csr binary, started by a test against a cluster.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/process.hpp"

namespace istio_csr::test {

/// How a test starts the agent.
struct agent_options {
  /// `--kubeconfig`.
  std::string kubeconfig;
  /// Flags after the kubeconfig and the listener flags.
  std::vector<std::string> args;
  /// Added to the agent's environment.
  std::map<std::string, std::string> env;
  /// How long start-up may take, until /readyz answers 200.
  std::chrono::milliseconds ready_timeout = 90s;
  /// Serve /metrics on a port that was free a moment ago (`--metrics-port=0`
  /// disables it, so it cannot be ephemeral); else none.
  bool metrics = false;
};

/// The value of `key` in a log line of the agent, text (` key=N`,
/// ` key="N"`) or JSON (`"key":N`, `"key":"N"`); empty when absent.
std::string log_field(const std::string& line, const std::string& key);

/// The samples of the metric `family` in a Prometheus text exposition:
/// each series' labels as exposed (`{code="200",...}`, "" without labels)
/// and its value.
std::map<std::string, double> metric_family(const std::string& text,
                                            const std::string& family);

/// The istio-csr process of a test, stopped (SIGTERM, then SIGKILL) when
/// destroyed.
class agent_process {
 public:
  /// Starts `bin("istio-csr") --kubeconfig=... --serving-address=127.0.0.1:0
  /// --readiness-probe-port=0 --metrics-port=0 args...`, reads the bound
  /// ports from its log ("serving gRPC ... port=N", "serving readiness
  /// port=N") and waits until /readyz answers 200, all within
  /// `ready_timeout`. Its process group is killed if the test program aborts
  /// (`kill_on_abort`). nullptr with `why` on failure.
  static std::unique_ptr<agent_process> start(const agent_options& opts,
                                              std::string& why);

  ~agent_process();
  agent_process(const agent_process&) = delete;
  agent_process& operator=(const agent_process&) = delete;

  /// `127.0.0.1:PORT` of the gRPC (TLS) endpoint.
  const std::string& address() const noexcept {
    return address_;
  }

  std::uint16_t port() const noexcept {
    return port_;
  }

  std::uint16_t readiness_port() const noexcept {
    return readiness_port_;
  }

  /// The /metrics port (`agent_options::metrics`), else 0.
  std::uint16_t metrics_port() const noexcept {
    return metrics_port_;
  }

  /// GET /metrics: the exposition text; empty if it did not answer 200.
  std::string scrape() const;

  child_process& process() const noexcept {
    return *process_;
  }

  /// `log_field` of the first log line (stdout or stderr) that contains
  /// `needle`, waiting up to `timeout` for it; empty if there is none.
  std::string field_of(const std::string& needle, const std::string& key,
                       std::chrono::milliseconds timeout = 60s) const;

  /// The last `max` bytes of stdout and stderr, for failure messages.
  std::string log_tail(std::size_t max = 4000) const;

 private:
  agent_process() = default;
  std::unique_ptr<child_process> process_;
  std::string address_;
  std::uint16_t port_ = 0;
  std::uint16_t readiness_port_ = 0;
  std::uint16_t metrics_port_ = 0;
};

} // namespace istio_csr::test
