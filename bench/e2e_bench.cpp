// The signing path end to end, as a user's mesh drives it: devcluster (the
// API server and cert-manager's CA issuer), the agent and `csrctl load` on
// this machine, all from the same build. For each key type and number of
// concurrent callers it reports signed CSRs per second, latency
// percentiles, the CPU the agent and devcluster spent per signed CSR (from
// /proc), the agent's RSS, and the Kubernetes API calls the agent made per
// signed CSR (its rest_client_requests_total). Before the load it measures
// the idle agent (CPU over --idle, RSS).
//
// Options: --duration D (each run, default 10s) --callers 1,64,256
// --keys ecdsa,rsa --connections N (4) --identities N (8) --idle D (5s).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <sys/resource.h>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/flags.hpp"
#include "tests/support/agent.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_cluster.hpp"

namespace {

using namespace istio_csr::test;
namespace bench = istio_csr::bench;
using namespace std::chrono_literals;

struct options {
  std::string duration = "10s";
  std::vector<int> callers{1, 64, 256};
  std::vector<std::string> keys{"ecdsa", "rsa"};
  int connections = 4;
  int identities = 8;
  std::chrono::seconds idle{5};
};

bool parse(int argc, char** argv, options& opts) {
  return bench::parse_flags(
    argc, argv, "bench_e2e",
    [&](const std::string& flag, const std::string& value) {
      if (flag == "--duration")
        opts.duration = value;
      else if (flag == "--callers")
        opts.callers = bench::int_list(value);
      else if (flag == "--keys")
        opts.keys = bench::split_list(value);
      else if (flag == "--connections")
        opts.connections = std::atoi(value.c_str());
      else if (flag == "--identities")
        opts.identities = std::atoi(value.c_str());
      else if (flag == "--idle")
        opts.idle = std::chrono::seconds{std::atoi(value.c_str())};
      else
        return false;
      return true;
    });
}

/// CPU time (user + system) of process `pid` so far, in milliseconds.
double cpu_ms(int pid) {
  return static_cast<double>(cpu_time_of(pid).count()) / 1000.0;
}

/// CPU time (user + system) of this program's finished children, in ms.
double children_cpu_ms() {
  rusage usage{};
  getrusage(RUSAGE_CHILDREN, &usage);
  auto ms = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) * 1000.0
           + static_cast<double>(t.tv_usec) / 1000.0;
  };
  return ms(usage.ru_utime) + ms(usage.ru_stime);
}

/// VmRSS of process `pid`, in MiB.
double rss_mib(int pid) {
  return static_cast<double>(rss_bytes_of(pid)) / (1024.0 * 1024.0);
}

/// The sum of every `rest_client_requests_total` series of a scrape.
double api_calls(const std::string& scrape) {
  double total = 0;
  for (auto& [labels, value] :
       metric_family(scrape, "rest_client_requests_total"))
    total += value;
  return total;
}

struct row {
  std::string key;
  int callers = 0;
  double rate = 0;
  double p50 = 0, p90 = 0, p99 = 0, max = 0;
  double agent_ms = 0, devcluster_ms = 0, load_ms = 0;
  double calls = 0;
  double rss = 0;
  uint64_t ok = 0, failed = 0;
};

void print(const row& r) {
  std::printf("%-6s %7d %9.0f %8.1f %8.1f %8.1f %8.1f %9.3f %9.3f %8.3f "
              "%7.2f %8.1f %7llu %6llu\n",
              r.key.c_str(), r.callers, r.rate, r.p50, r.p90, r.p99, r.max,
              r.agent_ms, r.devcluster_ms, r.load_ms, r.calls, r.rss,
              static_cast<unsigned long long>(r.ok),
              static_cast<unsigned long long>(r.failed));
  std::fflush(stdout);
}

} // namespace

int main(int argc, char** argv) {
  options opts;
  if (!parse(argc, argv, opts))
    return 2;
  auto cluster = test_cluster::start();
  if (!cluster)
    return 1;
  agent_options aopts;
  aopts.kubeconfig = cluster->kubeconfig();
  aopts.metrics = true;
  aopts.args = {"--log-level=1"};
  std::string why;
  auto agent = agent_process::start(aopts, why);
  if (!agent) {
    std::cerr << "bench_e2e: the agent did not start: " << why << "\n";
    return 1;
  }
  auto agent_pid = agent->process().pid();
  auto dc_pid = cluster->process() ? cluster->process()->pid() : 0;
  // Idle: the agent started, signed its serving certificate and settled.
  std::printf("== idle agent (%llds)\n",
              static_cast<long long>(opts.idle.count()));
  auto idle0 = cpu_ms(agent_pid);
  auto dc_idle0 = dc_pid ? cpu_ms(dc_pid) : 0;
  // Measuring an idle process: waiting is the point here (not a test).
  std::this_thread::sleep_for(opts.idle);
  auto idle_cpu = cpu_ms(agent_pid) - idle0;
  auto dc_idle = dc_pid ? cpu_ms(dc_pid) - dc_idle0 : 0;
  std::printf("agent CPU %.1f ms/s (%.2f %% of a core), RSS %.1f MiB; "
              "devcluster CPU %.1f ms/s\n",
              idle_cpu / static_cast<double>(opts.idle.count()),
              idle_cpu / 10.0 / static_cast<double>(opts.idle.count()),
              rss_mib(agent_pid),
              dc_idle / static_cast<double>(opts.idle.count()));
  std::printf("\n== load: %s per run, %d connections, %d identities\n",
              opts.duration.c_str(), opts.connections, opts.identities);
  std::printf("%-6s %7s %9s %8s %8s %8s %8s %9s %9s %8s %7s %8s %7s %6s\n",
              "key", "callers", "CSR/s", "p50 ms", "p90 ms", "p99 ms", "max ms",
              "agent ms", "devcl ms", "load ms", "API/CSR", "RSS MiB", "ok",
              "failed");
  int status = 0;
  for (auto& key : opts.keys) {
    for (auto callers : opts.callers) {
      std::vector<std::string> argv{
        bin("csrctl"),   "load",
        "--kubeconfig",  cluster->kubeconfig(),
        "--address",     agent->address(),
        "--namespace",   "default",
        "--identities",  std::to_string(opts.identities),
        "--connections", std::to_string(std::min(opts.connections, callers)),
        "--concurrency", std::to_string(callers),
        "--duration",    opts.duration,
        "--key",         key,
        "--no-retry",    "--json"};
      auto calls0 = api_calls(agent->scrape());
      auto a0 = cpu_ms(agent_pid);
      auto d0 = dc_pid ? cpu_ms(dc_pid) : 0;
      auto l0 = children_cpu_ms();
      auto res = run(argv, 10min);
      auto l1 = children_cpu_ms();
      auto a1 = cpu_ms(agent_pid);
      auto d1 = dc_pid ? cpu_ms(dc_pid) : 0;
      auto calls1 = api_calls(agent->scrape());
      auto report = nlohmann::json::parse(res.out, nullptr, false);
      if (report.is_discarded() || !report.is_object()) {
        std::cerr << "bench_e2e: csrctl load failed (exit " << res.exit_code
                  << "):\n"
                  << res.err << "\n";
        return 1;
      }
      row r;
      r.key = key;
      r.callers = callers;
      r.ok = report.value("ok", uint64_t{0});
      r.failed = report.value("total", uint64_t{0}) - r.ok;
      r.rate = report.value("throughput", 0.0);
      auto lat = report.value("latency_ms", nlohmann::json::object());
      r.p50 = lat.value("p50", 0.0);
      r.p90 = lat.value("p90", 0.0);
      r.p99 = lat.value("p99", 0.0);
      r.max = lat.value("max", 0.0);
      auto ok = static_cast<double>(r.ok > 0 ? r.ok : 1);
      r.agent_ms = (a1 - a0) / ok;
      r.devcluster_ms = (d1 - d0) / ok;
      r.load_ms = (l1 - l0) / ok;
      r.calls = (calls1 - calls0) / ok;
      r.rss = rss_mib(agent_pid);
      print(r);
      if (r.failed > 0)
        status = 1;
    }
  }
  return status;
}
