#include "tests/chaos/drill.hpp"

#include <algorithm>
#include <csignal>
#include <fstream>
#include <functional>
#include <future>
#include <iomanip>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "tests/e2e/fixture.hpp"
#include "tests/support/agent.hpp"
#include "tests/support/http.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_cluster.hpp"

namespace istio_csr::test::chaos {

namespace {

using json = nlohmann::json;
using steady = std::chrono::steady_clock;

constexpr const char* selector_label = "chaos-drill";
constexpr const char* agent_namespace = "cert-manager";
constexpr const char* agent_account = "istio-csr-drill";
constexpr const char* load_namespace = "chaos-load";

std::string trim(std::string s) {
  while (!s.empty()
         && (s.back() == '\n' || s.back() == '\r' || s.back() == ' '))
    s.pop_back();
  return s;
}

/// A kubeconfig that authenticates as the agent's service account (so the
/// faults, which name that user, hit the agents and not the drill).
std::string agent_kubeconfig(const test_cluster& cluster, const temp_dir& dir,
                             std::string& user, std::string& err) {
  auto sa = cluster.kubectl(
    {"create", "serviceaccount", agent_account, "-n", agent_namespace});
  if (sa.exit_code != 0 && sa.err.find("AlreadyExists") == std::string::npos) {
    err = "kubectl create serviceaccount: " + sa.err;
    return {};
  }
  auto token = cluster.kubectl({"create", "token", agent_account, "-n",
                                agent_namespace, "--duration", "3h"});
  if (token.exit_code != 0) {
    err = "kubectl create token: " + token.err;
    return {};
  }
  auto view
    = cluster.kubectl({"config", "view", "--raw", "--minify", "-o", "json"});
  auto config = json::parse(view.out, nullptr, false);
  if (view.exit_code != 0 || config.is_discarded()) {
    err = "kubectl config view: " + view.err;
    return {};
  }
  auto cluster_entry = config["clusters"][0]["cluster"];
  json out{
    {"apiVersion", "v1"},
    {"kind", "Config"},
    {"clusters", {{{"name", "drill"}, {"cluster", cluster_entry}}}},
    {"users", {{{"name", "agent"}, {"user", {{"token", trim(token.out)}}}}}},
    {"contexts",
     {{{"name", "agent"},
       {"context", {{"cluster", "drill"}, {"user", "agent"}}}}}},
    {"current-context", "agent"}};
  user = std::string{"system:serviceaccount:"} + agent_namespace + ":"
         + agent_account;
  // JSON is YAML.
  return dir.write("agent-kubeconfig", out.dump(2));
}

/// POSTs `body` to devcluster's admin path (the drill's admin credentials
/// are never faulted).
bool admin_post(const test_cluster& cluster, const std::string& path,
                const json& body, std::string& err) {
  auto res = cluster.kubectl({"create", "--raw", path, "-f", "-"}, body.dump());
  if (res.exit_code != 0)
    err = path + ": " + res.err;
  return res.exit_code == 0;
}

/// The sum of the samples of `family` (optionally with `label_value` in
/// the labels) in an exposition text.
double sum_samples(const std::string& scrape, const std::string& family,
                   const std::string& label_part = {}) {
  double total = 0;
  std::istringstream in{scrape};
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(family, 0) != 0)
      continue;
    auto rest = line.substr(family.size());
    if (rest.empty() || (rest[0] != '{' && rest[0] != ' '))
      continue;
    if (!label_part.empty() && rest.find(label_part) == std::string::npos)
      continue;
    total += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return total;
}

/// `istio_csr_actor_restarts_total` by actor.
void add_restarts(const std::string& scrape,
                  std::map<std::string, uint64_t>& out) {
  const std::string family = "istio_csr_actor_restarts_total{";
  std::istringstream in{scrape};
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(family, 0) != 0)
      continue;
    auto a = line.find("actor=\"");
    if (a == std::string::npos)
      continue;
    a += 7;
    auto actor = line.substr(a, line.find('"', a) - a);
    out[actor]
      += static_cast<uint64_t>(std::stod(line.substr(line.rfind(' ') + 1)));
  }
}

/// A replica: the agent process and what restarting it needs.
struct replica {
  agent_options opts;
  std::unique_ptr<agent_process> proc;
};

/// A replica event (a kill or a stop, then a restart) on its own thread,
/// which stays until `over` is ready (see run_drill).
class replica_event {
 public:
  replica_event() = default;
  replica_event(const replica_event&) = delete;
  replica_event& operator=(const replica_event&) = delete;

  ~replica_event() {
    if (thread_.joinable())
      thread_.join();
  }

  bool started() const {
    return thread_.joinable();
  }

  /// Runs `fn` (returning an error text, empty on success) on the thread.
  void start(std::shared_future<void> over, std::function<std::string()> fn) {
    done_ = result_.get_future();
    thread_ = std::thread{[this, over, fn = std::move(fn)] {
      result_.set_value(fn());
      over.wait();
    }};
  }

  /// Waits for `fn`'s answer; "never happened" if not started.
  std::string result() {
    return started() ? done_.get() : std::string{"never happened"};
  }

 private:
  std::promise<std::string> result_;
  std::future<std::string> done_;
  std::thread thread_;
};

/// The namespaces the drill made and what it did to them.
struct churn {
  std::mt19937_64 rng;
  int next = 0;
  /// Living namespaces and whether they are selected now.
  std::map<std::string, bool> selected;
  std::set<std::string> ever_selected;
  size_t created = 0, relabels = 0, deletions = 0;

  explicit churn(uint64_t seed) : rng(seed) {}

  bool coin(double p) {
    return std::uniform_real_distribution<double>{0, 1}(rng) < p;
  }

  std::string pick() {
    auto i = std::uniform_int_distribution<size_t>{0, selected.size() - 1}(rng);
    auto it = selected.begin();
    std::advance(it, static_cast<long>(i));
    return it->first;
  }

  /// One create, relabel or delete.
  void step(const test_cluster& cluster, std::ostream& log) {
    auto roll = std::uniform_real_distribution<double>{0, 1}(rng);
    if (selected.size() < 6 || (roll < 0.4 && selected.size() < 40)) {
      auto ns = "chaos-ns-" + std::to_string(next++);
      bool in = coin(0.5);
      auto res = cluster.kubectl({"create", "namespace", ns});
      if (res.exit_code != 0) {
        log << "drill: create namespace " << ns << ": " << res.err;
        return;
      }
      if (in)
        cluster.kubectl(
          {"label", "namespace", ns, std::string{selector_label} + "=in"});
      selected[ns] = in;
      if (in)
        ever_selected.insert(ns);
      ++created;
    } else if (roll < 0.8) {
      auto ns = pick();
      bool in = !selected[ns];
      auto res = cluster.kubectl(
        {"label", "namespace", ns, "--overwrite",
         std::string{selector_label} + "=" + (in ? "in" : "out")});
      if (res.exit_code != 0)
        return;
      selected[ns] = in;
      if (in)
        ever_selected.insert(ns);
      ++relabels;
    } else {
      auto ns = pick();
      cluster.kubectl({"delete", "namespace", ns, "--wait=false"});
      selected.erase(ns);
      ++deletions;
    }
  }
};

/// The root-cert ConfigMap of `ns`: its `root-cert.pem`, nullopt if none.
std::optional<std::string> root_cert(const test_cluster& cluster,
                                     const std::string& ns) {
  auto cm = e2e::kubectl_json(
    cluster, {"get", "configmap", "istio-ca-root-cert", "-n", ns});
  if (cm.is_null())
    return std::nullopt;
  return cm.value("data", json::object()).value("root-cert.pem", "");
}

void check(drill_report& r, bool ok, const std::string& what) {
  r.checks.push_back((ok ? "ok: " : "FAILED: ") + what);
  if (!ok && r.failure.empty())
    r.failure = what;
}

/// Writes the agent's log into `opts.log_dir` (if set).
void save_log(const drill_options& opts, const std::string& name,
              const agent_process& agent) {
  if (opts.log_dir.empty())
    return;
  std::ofstream{opts.log_dir + "/" + name}
    << agent.log_tail(std::numeric_limits<std::size_t>::max());
}

std::string go_duration(std::chrono::milliseconds d) {
  return std::to_string(d.count()) + "ms";
}

} // namespace

drill_report run_drill(const drill_options& opts, std::ostream& log) {
  drill_report r;
  auto started = steady::now();
  auto cluster = test_cluster::start();
  if (!cluster) {
    r.failure = "devcluster did not start";
    return r;
  }
  temp_dir dir;
  std::string err;
  std::string agent_user;
  auto kc = agent_kubeconfig(*cluster, dir, agent_user, err);
  if (kc.empty()) {
    r.failure = err;
    return r;
  }
  auto root = e2e::issuer_root(*cluster, "istio-ca", err);
  if (root.empty()) {
    r.failure = "no issuer root: " + err;
    return r;
  }
  cluster->kubectl({"create", "namespace", load_namespace});
  // Two replicas with leader election and a chaos monkey each.
  std::vector<replica> replicas(2);
  for (size_t i = 0; i < replicas.size(); ++i) {
    auto& rep = replicas[i];
    rep.opts.kubeconfig = kc;
    rep.opts.metrics = true;
    rep.opts.args = {
      "--configmap-namespace-selector=" + std::string{selector_label} + "=in",
      "--leader-election-lease-duration=4s",
      "--leader-election-renew-deadline=3s",
      "--leader-election-retry-period=500ms",
      "--certificate-request-timeout="
        + std::to_string(opts.certificate_request_timeout.count()) + "s",
      "--debug-address=127.0.0.1:0",
    };
    if (!opts.kill_interval.empty()) {
      rep.opts.args.push_back("--chaos-kill-interval=" + opts.kill_interval);
      rep.opts.args.push_back("--chaos-seed=" + std::to_string(opts.seed + i));
    }
    rep.proc = agent_process::start(rep.opts, err);
    if (!rep.proc) {
      r.failure = "replica " + std::to_string(i) + " did not start: " + err;
      return r;
    }
    // A restart keeps the address, as a pod behind a Service would.
    rep.opts.args.push_back("--serving-address=" + rep.proc->address());
  }
  // Faults for the agents' service account: 10 % 500, 5 % 429, watches
  // dropped every 3 s (and compactions below, so that resumed watches get
  // 410 and list again).
  json faults{
    {"seed", opts.seed},
    {"rules",
     {{{"users", {agent_user}}, {"error", 500}, {"probability", 0.10}},
      {{"users", {agent_user}},
       {"error", 429},
       {"retryAfterSeconds", 1},
       {"probability", 0.05}}}},
    {"watch", {{"dropAfterSeconds", 3}}}};
  if (opts.faults
      && !admin_post(*cluster, "/devcluster/v1/faults", faults, err)) {
    r.failure = err;
    return r;
  }
  // The load: istio-agent's retry policy over both replicas.
  auto load = child_process::spawn(
    {bin("csrctl"),
     "load",
     "--kubeconfig",
     cluster->kubeconfig(),
     "--address",
     replicas[0].proc->address() + "," + replicas[1].proc->address(),
     "--namespace",
     load_namespace,
     "--identities",
     "8",
     "--connections",
     "4",
     "--rate",
     std::to_string(opts.rate),
     "--duration",
     go_duration(opts.duration),
     "--key",
     "ecdsa",
     "--retry",
     "--verify",
     "--timeout",
     "20s",
     "--json"});
  if (!load) {
    r.failure = "csrctl load did not start";
    return r;
  }
  log << "drill: load, faults and chaos for " << opts.duration.count()
      << " ms\n";
  churn ns{opts.seed};
  auto t0 = steady::now();
  auto end = t0 + opts.duration;
  auto step = std::chrono::duration_cast<steady::duration>(
    std::chrono::duration<double>(1.0 / opts.churn_rate));
  auto next_step = t0;
  auto next_compaction = t0 + 5s;
  // The two replica events run beside the loop (a restart waits for the
  // new agent to be ready, which under load can take seconds): each
  // replaces its replica's process once the new one is ready. Their
  // threads live until the drill ends: a child started with
  // PR_SET_PDEATHSIG dies with the thread that started it.
  std::promise<void> over;
  auto over_signal = over.get_future().share();
  replica_event kill_event;
  replica_event term_event;
  struct over_guard {
    std::promise<void>& p;
    ~over_guard() {
      p.set_value();
    }
  } guard{over};
  auto restart = [&opts](replica& rep, const std::string& name) {
    save_log(opts, name, *rep.proc);
    std::string why;
    auto next = agent_process::start(rep.opts, why);
    if (!next)
      return "did not restart: " + why;
    rep.proc = std::move(next);
    return std::string{};
  };
  while (load->running()) {
    auto now = steady::now();
    if (!kill_event.started() && now >= t0 + opts.duration / 2) {
      log << "drill: SIGKILL replica 1\n";
      kill_event.start(over_signal, [&] {
        auto& rep = replicas[1];
        rep.proc->process().signal(SIGKILL);
        rep.proc->process().wait_exit(10s);
        return restart(rep, "replica-1-killed.log");
      });
    }
    if (!term_event.started() && now >= t0 + opts.duration * 3 / 4) {
      // An orderly stop under load, as a rolling update does: SIGTERM, the
      // agent drains within its grace period, then a new one starts.
      log << "drill: SIGTERM replica 0\n";
      term_event.start(over_signal, [&] {
        auto& rep = replicas[0];
        auto t = steady::now();
        rep.proc->process().signal(SIGTERM);
        auto code = rep.proc->process().wait_exit(60s);
        r.sigterm_seconds
          = std::chrono::duration<double>(steady::now() - t).count();
        r.sigterm_exit_code = code.value_or(-1);
        return restart(rep, "replica-0-terminated.log");
      });
    }
    if (opts.faults && now < end && now >= next_compaction) {
      next_compaction = now + 5s;
      admin_post(*cluster, "/devcluster/v1/compact", json::object(), err);
      admin_post(*cluster, "/devcluster/v1/drop-watches", json::object(), err);
    }
    if (now < end && now >= next_step) {
      next_step += step;
      ns.step(*cluster, log);
    }
    // Pacing the churn (not waiting for a condition).
    std::this_thread::sleep_until(std::min(next_step, now + 50ms));
  }
  auto status = load->wait_exit(60s);
  for (auto* event : {&kill_event, &term_event}) {
    auto why = event->result();
    if (!why.empty()) {
      r.failure = std::string{event == &kill_event ? "replica 1" : "replica 0"}
                  + ": " + why;
      return r;
    }
  }
  log << "drill: both replicas back\n";
  // Calm: no faults, no chaos.
  cluster->kubectl({"delete", "--raw", "/devcluster/v1/faults"});
  for (auto& rep : replicas) {
    if (opts.kill_interval.empty())
      break;
    auto port = rep.proc->field_of("serving the debug endpoint", "port", 10s);
    auto stopped = curl_http(static_cast<std::uint16_t>(std::stoi(
                               port.empty() ? std::string{"0"} : port)),
                             "/debug/chaos/stop", "POST");
    if (stopped.status != 200)
      log << "drill: chaos mode did not stop: " << stopped.status << " "
          << stopped.body << stopped.error << "\n";
  }
  auto calm = steady::now();
  r.namespaces_created = ns.created;
  r.relabels = ns.relabels;
  r.deletions = ns.deletions;
  auto report = json::parse(load->out(), nullptr, false);
  if (report.is_discarded() || !report.is_object()) {
    r.failure = "csrctl load gave no report (exit "
                + std::to_string(status.value_or(-1)) + "): " + load->err();
    return r;
  }
  r.attempted = report.value("total", uint64_t{0});
  r.ok = report.value("ok", uint64_t{0});
  r.failed = r.attempted - r.ok;
  r.retries = report.value("retries", uint64_t{0});
  r.verify_failed = report.value("verify_failed", uint64_t{0});
  auto errors = report.value("errors", json::object());
  for (auto& [code, n] : errors.items())
    r.errors[code] = n.get<uint64_t>();
  auto messages = report.value("error_messages", json::object());
  for (auto& [code, m] : messages.items())
    if (m.is_string())
      r.error_messages[code] = m.get<std::string>();
  auto lat = report.value("latency_ms", json::object());
  r.latency_p50_ms = lat.value("p50", 0.0);
  r.latency_p99_ms = lat.value("p99", 0.0);
  r.latency_max_ms = lat.value("max", 0.0);
  check(r, r.attempted > 0,
        "calls were made (" + std::to_string(r.attempted) + ")");
  check(r, r.failed == 0,
        "no call failed after istio-agent's retries ("
          + std::to_string(r.failed) + " failed)");
  check(r, r.sigterm_exit_code == 0,
        "the replica stopped with SIGTERM exited 0 ("
          + std::to_string(r.sigterm_exit_code) + ")");
  check(r, r.verify_failed == 0,
        "every chain verifies and names exactly its caller ("
          + std::to_string(r.verify_failed) + " did not)");
  // Every selected namespace holds the root within 5 s; the never
  // selected ones have none.
  std::vector<std::string> wrong;
  auto converged = [&] {
    wrong.clear();
    for (auto& [name, in] : ns.selected) {
      auto cm = root_cert(*cluster, name);
      if (in ? (!cm || trim(*cm) != trim(root))
             : (cm && ns.ever_selected.count(name) == 0))
        wrong.push_back(name);
    }
    return wrong.empty();
  };
  wait_until(converged, 5s, 100ms);
  r.namespaces_checked = ns.selected.size();
  r.namespaces_wrong = wrong.size();
  check(r, wrong.empty(),
        "every selected namespace has the root within 5 s, no other has one"
          + (wrong.empty() ? std::string{}
                           : " (wrong: " + wrong.front() + ", ...)"));
  // One leader.
  auto leaders = [&] {
    size_t n = 0;
    for (auto& rep : replicas)
      n += e2e::metric_sample(rep.proc->scrape(),
                              "leader_election_master_status{name=\"istio-"
                              "csr\"}")
               > 0.5
             ? 1
             : 0;
    return n;
  };
  wait_until([&] { return leaders() == 1; }, 15s, 100ms);
  r.lease_holders = leaders();
  check(r, r.lease_holders == 1,
        "exactly one replica leads (" + std::to_string(r.lease_holders) + ")");
  // No CertificateRequest left 2 x the timeout after the end.
  auto leak_deadline = opts.certificate_request_timeout * 2;
  auto left = [&] { return e2e::certificate_requests(*cluster).size(); };
  wait_until([&] { return left() == 0; },
             std::chrono::duration_cast<std::chrono::milliseconds>(
               leak_deadline - (steady::now() - calm)),
             200ms);
  r.leaked_certificate_requests = left();
  check(r, r.leaked_certificate_requests == 0,
        "no CertificateRequest left after 2 x --certificate-request-timeout ("
          + std::to_string(r.leaked_certificate_requests) + ")");
  for (auto& rep : replicas) {
    auto scrape = rep.proc->scrape();
    add_restarts(scrape, r.restarts);
    r.kills += static_cast<uint64_t>(
      sum_samples(scrape, "istio_csr_chaos_kills_total"));
  }
  for (size_t i = 0; i < replicas.size(); ++i)
    save_log(opts, "replica-" + std::to_string(i) + ".log", *replicas[i].proc);
  r.seconds = std::chrono::duration<double>(steady::now() - started).count();
  return r;
}

void print_report(const drill_options& opts, const drill_report& r,
                  std::ostream& out) {
  out << "## Chaos drill: " << (r.passed() ? "passed" : "FAILED") << "\n\n"
      << "seed " << opts.seed << ", " << opts.duration.count() / 1000.0
      << " s, " << opts.rate << " calls/s, chaos every " << opts.kill_interval
      << " in each of 2 replicas\n\n";
  for (auto& c : r.checks)
    out << "- " << c << "\n";
  out << "\n| figure | value |\n|---|---|\n"
      << "| calls attempted | " << r.attempted << " |\n"
      << "| calls failed after all retries | " << r.failed << " |\n"
      << "| retries | " << r.retries << " |\n"
      << "| chains that failed verification | " << r.verify_failed << " |\n"
      << "| latency p50 / p99 / max (ms), retries included | " << std::fixed
      << std::setprecision(1) << r.latency_p50_ms << " / " << r.latency_p99_ms
      << " / " << r.latency_max_ms << " |\n"
      << "| CertificateRequests left | " << r.leaked_certificate_requests
      << " |\n"
      << "| namespaces checked / wrong | " << r.namespaces_checked << " / "
      << r.namespaces_wrong << " |\n"
      << "| namespaces created / relabelled / deleted | "
      << r.namespaces_created << " / " << r.relabels << " / " << r.deletions
      << " |\n"
      << "| Lease holders at the end | " << r.lease_holders << " |\n"
      << "| SIGTERM of replica 0: exit code, seconds to stop | "
      << r.sigterm_exit_code << ", " << r.sigterm_seconds << " |\n"
      << "| actors killed by chaos mode (replicas alive at the end) | "
      << r.kills << " |\n";
  for (auto& [code, n] : r.errors) {
    out << "| errors after retries: " << code << " | " << n;
    if (auto m = r.error_messages.find(code); m != r.error_messages.end())
      out << " (e.g. \"" << m->second << "\")";
    out << " |\n";
  }
  out << "\nRestarts per actor (both replicas, as counted at the end):\n\n"
      << "| actor | restarts |\n|---|---|\n";
  for (auto& [actor, n] : r.restarts)
    out << "| " << actor << " | " << n << " |\n";
  out << "\nThe longest a call waited, restarts, faults and retries included, "
         "is the maximum latency above.\n";
}

} // namespace istio_csr::test::chaos
