// The namespace side at scale: the agent writes ConfigMap
// `istio-ca-root-cert` into every namespace (namespace watcher, one
// configmap actor per namespace). For each number of namespaces it starts a
// fresh devcluster, creates the namespaces in one admin request
// (`POST /devcluster/v1/objects`), starts the agent (all from the same
// build) and reports:
//
// - the time from the agent's start until every namespace has its
//   ConfigMap (devcluster's object counters, polled every 100 ms), beside
//   the target 1.1 × (n − burst) / QPS, and when the agent led, had
//   listed and logged its last write (its JSON log);
// - the agent's Kubernetes API calls until then (`rest_client_requests_total`
//   by method);
// - the agent's RSS after converging, per namespace over a run with only
//   devcluster's own namespaces;
// - the agent's CPU and its threads' wakeups over --idle seconds after
//   converging.
//
// Options: --namespaces 1000,5000,10000 --idle 10 (seconds) --qps 500
// --burst 1000 (the agent's --kube-api-qps/--kube-api-burst; its defaults)
// --timeout 300 (seconds per convergence).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/flags.hpp"
#include "tests/devcluster/https_client.hpp"
#include "tests/support/agent.hpp"
#include "tests/support/log_lines.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_cluster.hpp"

namespace {

using namespace istio_csr::test;
namespace bench = istio_csr::bench;
using namespace std::chrono_literals;
using json = nlohmann::json;
using clock_type = std::chrono::steady_clock;

struct options {
  std::vector<int> namespaces{1000, 5000, 10000};
  std::chrono::seconds idle{10};
  double qps = 500;
  int burst = 1000;
  std::chrono::seconds timeout{300};
};

bool parse(int argc, char** argv, options& opts) {
  return bench::parse_flags(
    argc, argv, "bench_scale",
    [&](const std::string& flag, const std::string& value) {
      if (flag == "--namespaces")
        opts.namespaces = bench::int_list(value);
      else if (flag == "--idle")
        opts.idle = std::chrono::seconds{std::atoi(value.c_str())};
      else if (flag == "--qps")
        opts.qps = std::atof(value.c_str());
      else if (flag == "--burst")
        opts.burst = std::atoi(value.c_str());
      else if (flag == "--timeout")
        opts.timeout = std::chrono::seconds{std::atoi(value.c_str())};
      else
        return false;
      return true;
    });
}

double seconds(clock_type::duration d) {
  return std::chrono::duration<double>(d).count();
}

double mib(std::size_t bytes) {
  return static_cast<double>(bytes) / (1024.0 * 1024.0);
}

/// Wakeups of process `pid` so far: the voluntary context switches of all
/// its threads (a thread that sleeps and wakes counts one).
long long wakeups(int pid) {
  long long total = 0;
  std::error_code ec;
  auto dir = "/proc/" + std::to_string(pid) + "/task";
  for (auto& task : std::filesystem::directory_iterator{dir, ec}) {
    std::istringstream status{read_file(task.path().string() + "/status")};
    for (std::string line; std::getline(status, line);)
      if (line.rfind("voluntary_ctxt_switches:", 0) == 0)
        total += std::atoll(line.c_str() + 24);
  }
  return total;
}

/// Object counts of devcluster (`GET /devcluster/v1/stats`).
std::optional<json> object_counts(const https_client& admin) {
  auto res = admin.get("/devcluster/v1/stats");
  if (res.status != 200)
    return std::nullopt;
  auto body = res.json();
  if (!body.is_object() || !body["objects"].is_object())
    return std::nullopt;
  return body["objects"];
}

/// Creates namespaces `scale-00000`... in requests of up to 2,000.
bool create_namespaces(const https_client& admin, int n) {
  constexpr int batch = 2000;
  for (int first = 0; first < n; first += batch) {
    json items = json::array();
    for (int i = first; i < std::min(n, first + batch); ++i) {
      char name[32];
      std::snprintf(name, sizeof name, "scale-%05d", i);
      items.push_back({{"apiVersion", "v1"},
                       {"kind", "Namespace"},
                       {"metadata", {{"name", name}}}});
    }
    auto res = admin.post("/devcluster/v1/objects", json{{"items", items}});
    if (res.status != 200) {
      std::cerr << "bench_scale: creating namespaces failed: " << res.status
                << " " << res.body << res.error << "\n";
      return false;
    }
  }
  return true;
}

/// When (seconds after `start`) the agent logged `msg` first and last;
/// -1 if never.
std::pair<double, double>
logged_at(const agent_process& agent, const std::string& msg,
          std::chrono::system_clock::time_point start) {
  auto origin = std::chrono::duration<double>(start.time_since_epoch()).count();
  std::pair<double, double> result{-1, -1};
  for (auto& stream : {agent.process().out(), agent.process().err()})
    for (auto& line : split_lines(stream))
      if (line.find(msg) != std::string::npos)
        if (auto parsed = parse_json_line(line); parsed && parsed->msg == msg) {
          if (result.first < 0)
            result.first = parsed->ts - origin;
          result.second = parsed->ts - origin;
        }
  return result;
}

struct row {
  int namespaces = 0;
  double setup_s = 0;
  double ready_s = 0;
  double led_s = 0;
  double listed_s = 0;
  double converged_s = -1;
  double last_write_s = 0;
  double target_s = 0;
  std::map<std::string, double> calls; // by method
  double calls_total = 0;
  double devcluster_cpu_s = 0;
  double agent_cpu_s = 0;
  std::size_t rss = 0;
  double idle_cpu_percent = 0;
  double wakeups_per_s = 0;
};

/// The method label of a `rest_client_requests_total` series.
std::string method_of(const std::string& labels) {
  auto at = labels.find("method=\"");
  if (at == std::string::npos)
    return "?";
  at += 8;
  return labels.substr(at, labels.find('"', at) - at);
}

/// One run: a fresh devcluster with `n` namespaces more than its own, then
/// the agent. nullopt on failure (printed).
std::optional<row> measure(const options& opts, int n) {
  row r;
  r.namespaces = n;
  auto cluster = test_cluster::start();
  if (!cluster)
    return std::nullopt;
  if (!cluster->is_devcluster()) {
    std::cerr << "bench_scale: needs devcluster (its admin API creates the "
                 "namespaces and counts the ConfigMaps); unset "
                 "ISTIO_CSR_TEST_KUBECONFIG\n";
    return std::nullopt;
  }
  https_client admin{kube_access::of(*cluster)};
  auto setup_start = clock_type::now();
  if (!create_namespaces(admin, n))
    return std::nullopt;
  r.setup_s = seconds(clock_type::now() - setup_start);
  auto before = object_counts(admin);
  if (!before)
    return std::nullopt;
  auto all_namespaces = (*before)["namespaces"].get<long long>();
  auto wanted
    = (*before)["configmaps"].get<long long>() + all_namespaces; // one each
  // Positive: the time every ConfigMap existed; negative: timed out.
  std::atomic<double> converged{0};
  auto dc_pid = cluster->process()->pid();
  auto dc_cpu0 = cpu_time_of(dc_pid);
  auto wall_start = std::chrono::system_clock::now();
  auto start = clock_type::now();
  std::thread poll{[&] {
    https_client poller{admin.access()};
    auto found = wait_until(
      [&] {
        auto counts = object_counts(poller);
        return counts && (*counts)["configmaps"].get<long long>() >= wanted;
      },
      opts.timeout, 100ms);
    converged = found ? seconds(clock_type::now() - start) : -1.0;
  }};
  agent_options aopts;
  aopts.kubeconfig = cluster->kubeconfig();
  aopts.metrics = true;
  aopts.args = {"--log-level=1", "--log-format=json",
                "--kube-api-qps=" + std::to_string(opts.qps),
                "--kube-api-burst=" + std::to_string(opts.burst)};
  std::string why;
  auto agent = agent_process::start(aopts, why);
  r.ready_s = seconds(clock_type::now() - start);
  poll.join();
  if (!agent) {
    std::cerr << "bench_scale: the agent did not start: " << why << "\n";
    return std::nullopt;
  }
  auto pid = agent->process().pid();
  r.converged_s = converged;
  if (r.converged_s < 0) {
    std::cerr << "bench_scale: " << n << " namespaces: not every ConfigMap "
              << "existed after " << opts.timeout.count() << " s\n"
              << agent->log_tail();
    return std::nullopt;
  }
  r.agent_cpu_s = static_cast<double>(cpu_time_of(pid).count()) / 1e6;
  r.devcluster_cpu_s
    = static_cast<double>((cpu_time_of(dc_pid) - dc_cpu0).count()) / 1e6;
  for (auto& [labels, value] :
       metric_family(agent->scrape(), "rest_client_requests_total")) {
    r.calls[method_of(labels)] += value;
    r.calls_total += value;
  }
  r.led_s = logged_at(*agent, "successfully acquired lease", wall_start).first;
  r.listed_s
    = logged_at(*agent, "namespaces and ConfigMaps listed", wall_start).first;
  r.last_write_s = logged_at(*agent, "created ConfigMap", wall_start).second;
  auto over_burst = static_cast<double>(all_namespaces - opts.burst);
  r.target_s = over_burst > 0 ? 1.1 * over_burst / opts.qps : 0;
  r.rss = rss_bytes_of(pid);
  auto cpu0 = cpu_time_of(pid);
  auto wake0 = wakeups(pid);
  // Measuring an idle process: waiting is the point here (not a test).
  std::this_thread::sleep_for(opts.idle);
  auto idle_s = static_cast<double>(opts.idle.count());
  r.idle_cpu_percent
    = static_cast<double>((cpu_time_of(pid) - cpu0).count()) / 1e4 / idle_s;
  r.wakeups_per_s = static_cast<double>(wakeups(pid) - wake0) / idle_s;
  return r;
}

void print_header() {
  std::printf("%10s %7s %7s %6s %7s %8s %9s %8s %7s %6s %6s %6s %8s %8s "
              "%8s %8s %7s %8s\n",
              "namespaces", "setup", "ready", "led", "listed", "last wr",
              "converged", "target", "API", "POST", "GET", "other", "agentCPU",
              "devclCPU", "RSS MiB", "KiB/ns", "idle%", "wakes/s");
  std::fflush(stdout);
}

void print(const row& r, const row* base) {
  auto other = r.calls_total;
  for (auto* m : {"POST", "GET"})
    if (auto i = r.calls.find(m); i != r.calls.end())
      other -= i->second;
  auto get = [&](const char* m) {
    auto i = r.calls.find(m);
    return i == r.calls.end() ? 0.0 : i->second;
  };
  double per_ns = 0;
  if (base && r.namespaces > 0)
    per_ns = (static_cast<double>(r.rss) - static_cast<double>(base->rss))
             / 1024.0 / r.namespaces;
  std::printf("%10d %6.2fs %6.2fs %5.2fs %6.2fs %7.2fs %8.2fs %7.2fs %7.0f "
              "%6.0f %6.0f %6.0f %7.2fs %7.2fs %8.1f %8.2f %7.2f %8.1f\n",
              r.namespaces, r.setup_s, r.ready_s, r.led_s, r.listed_s,
              r.last_write_s, r.converged_s, r.target_s, r.calls_total,
              get("POST"), get("GET"), other, r.agent_cpu_s, r.devcluster_cpu_s,
              mib(r.rss), per_ns, r.idle_cpu_percent, r.wakeups_per_s);
  std::fflush(stdout);
}

} // namespace

int main(int argc, char** argv) {
  options opts;
  if (!parse(argc, argv, opts))
    return 2;
  std::printf("== namespaces at scale: kube-api-qps %.0f, burst %d, idle %llds"
              " (times from the agent's start; target = 1.1 x (namespaces -"
              " burst) / qps; devcluster's own 6 namespaces included)\n",
              opts.qps, opts.burst, static_cast<long long>(opts.idle.count()));
  print_header();
  // devcluster's own namespaces only: the agent's memory without ours.
  auto base = measure(opts, 0);
  if (!base)
    return 1;
  print(*base, nullptr);
  for (auto n : opts.namespaces) {
    auto r = measure(opts, n);
    if (!r)
      return 1;
    print(*r, &*base);
  }
  return 0;
}
