#include "tests/support/agent.hpp"

#include <algorithm>
#include <cstdlib>
#include <sstream>

#include "tests/support/sockets.hpp"

namespace istio_csr::test {

std::string log_field(const std::string& line, const std::string& key) {
  for (const auto& prefix : {" " + key + "=", "\"" + key + "\":"}) {
    auto pos = line.find(prefix);
    if (pos == std::string::npos)
      continue;
    pos += prefix.size();
    bool quoted = pos < line.size() && line[pos] == '"';
    if (quoted)
      ++pos;
    auto end = quoted ? line.find('"', pos) : line.find_first_of(" ,}", pos);
    return line.substr(pos, end == std::string::npos ? end : end - pos);
  }
  return {};
}

namespace {

/// The last `max` bytes of `text` ("..." first when cut).
std::string tail(const std::string& text, std::size_t max) {
  return text.size() <= max ? text : "..." + text.substr(text.size() - max);
}

/// The port in `line`'s `port` field; 0 if there is none.
std::uint16_t port_field(const std::optional<std::string>& line) {
  if (!line)
    return 0;
  auto value = std::atoi(log_field(*line, "port").c_str());
  return value > 0 && value < 65536 ? static_cast<std::uint16_t>(value) : 0;
}

} // namespace

std::unique_ptr<agent_process> agent_process::start(const agent_options& opts,
                                                    std::string& why) {
  std::unique_ptr<agent_process> result{new agent_process};
  // Every listener on an ephemeral port; the agent logs the bound ports.
  std::vector<std::string> argv{
    bin("istio-csr"),
    "--kubeconfig=" + opts.kubeconfig,
    "--serving-address=127.0.0.1:0",
    "--readiness-probe-port=0",
    "--metrics-port="
      + std::to_string(opts.metrics ? free_port() : std::uint16_t{0}),
  };
  argv.insert(argv.end(), opts.args.begin(), opts.args.end());
  result->process_ = child_process::spawn(argv, opts.env);
  if (!result->process_) {
    why = "cannot start " + argv[0];
    return nullptr;
  }
  kill_on_abort(result->process_->pid());
  auto* proc = result->process_.get();
  auto deadline = std::chrono::steady_clock::now() + opts.ready_timeout;
  auto remaining = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
      std::max(deadline - std::chrono::steady_clock::now(),
               std::chrono::steady_clock::duration{0}));
  };
  auto grpc_line = proc->wait_for_line("serving gRPC", remaining(), true);
  result->port_ = port_field(grpc_line);
  if (grpc_line)
    result->readiness_port_
      = port_field(proc->wait_for_line("serving readiness", remaining(), true));
  if (grpc_line && opts.metrics) {
    result->metrics_port_
      = port_field(proc->wait_for_line("serving metrics", remaining(), true));
    if (result->metrics_port_ == 0) {
      why = "istio-csr did not log \"serving metrics port=N\"; its output:\n"
            + result->log_tail();
      return nullptr;
    }
  }
  if (result->port_ == 0 || result->readiness_port_ == 0) {
    why = "istio-csr did not log its ports (\"serving gRPC ... port=N\", "
          "\"serving readiness port=N\"); its output:\n"
          + result->log_tail();
    return nullptr;
  }
  result->address_ = "127.0.0.1:" + std::to_string(result->port_);
  auto port = result->readiness_port_;
  bool ready = wait_until(
    [&] { return !proc->running() || http_status(port, "/readyz") == 200; },
    remaining(), 50ms);
  if (!ready || !proc->running()) {
    why = std::string{"istio-csr "}
          + (proc->running() ? "did not answer 200 on /readyz in time"
                             : "exited before it was ready")
          + "; its output:\n" + result->log_tail();
    return nullptr;
  }
  return result;
}

agent_process::~agent_process() {
  if (process_) {
    auto pid = process_->pid();
    process_->stop();
    forget_on_abort(pid);
  }
}

std::string agent_process::field_of(const std::string& needle,
                                    const std::string& key,
                                    std::chrono::milliseconds timeout) const {
  auto line = process_->wait_for_line(needle, timeout, true);
  return line ? log_field(*line, key) : std::string{};
}

std::map<std::string, double> metric_family(const std::string& text,
                                            const std::string& family) {
  std::map<std::string, double> result;
  std::istringstream lines{text};
  for (std::string line; std::getline(lines, line);) {
    if (line.compare(0, family.size(), family) != 0)
      continue;
    auto space = line.rfind(' ');
    if (space == std::string::npos || space < family.size())
      continue;
    auto labels = line.substr(family.size(), space - family.size());
    if (!labels.empty() && labels.front() != '{')
      continue; // another family with this prefix (`_bucket`, `_total`...)
    result[labels] = std::strtod(line.c_str() + space + 1, nullptr);
  }
  return result;
}

std::string agent_process::scrape() const {
  if (metrics_port_ == 0)
    return {};
  auto res
    = run({program("curl"), "-sS", "--fail", "--max-time", "20",
           "http://127.0.0.1:" + std::to_string(metrics_port_) + "/metrics"},
          30s);
  return res.exit_code == 0 ? res.out : std::string{};
}

std::string agent_process::log_tail(std::size_t max) const {
  return "--- stdout\n" + tail(process_->out(), max) + "\n--- stderr\n"
         + tail(process_->err(), max);
}

} // namespace istio_csr::test
