#include "csrctl/load.hpp"

#include <signal.h>

#include <atomic>
#include <cstdio>
#include <ostream>
#include <random>

#include "csrctl/ca_client.hpp"
#include "csrctl/chain.hpp"
#include "csrctl/credentials.hpp"
#include "csrctl/kube_access.hpp"
#include "csrctl/load_driver.hpp"
#include "csrctl/workload.hpp"
#include "errors/describe.hpp"
#include "pki/error.hpp"

namespace istio_csr::csrctl {

namespace {

using namespace std::chrono_literals;

constexpr int exit_local_failure = 2;
constexpr int exit_interrupted = 130;

/// Set by SIGINT or SIGTERM while `csrctl load` runs.
std::atomic<bool> stop_requested{false};

void on_stop_signal(int) {
  stop_requested.store(true);
}

/// SIGINT and SIGTERM set `stop_requested` while this lives; a second one
/// ends the program as usual.
class stop_signals {
 public:
  stop_signals() {
    stop_requested.store(false);
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }

  ~stop_signals() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }

  stop_signals(const stop_signals&) = delete;
  stop_signals& operator=(const stop_signals&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

std::string fixed(double x, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, x);
  return buf;
}

double seconds(std::chrono::nanoseconds d) {
  return std::chrono::duration<double>(d).count();
}

/// Closed-loop callers, or with a rate the calls in flight at most.
size_t concurrency_of(const load_options& o) {
  return o.concurrency.value_or(o.rate ? load_limits::default_in_flight
                                       : load_limits::default_callers);
}

/// The flags' problem, or empty.
std::string check_options(const load_options& o) {
  const auto& c = o.call;
  using limits = load_limits;
  if (o.rate && !(*o.rate > 0 && *o.rate <= limits::max_rate))
    return "--rate must be above 0 and at most " + fixed(limits::max_rate, 0)
           + " calls per second";
  if (o.concurrency
      && (*o.concurrency < 1 || *o.concurrency > limits::max_concurrency))
    return "--concurrency must be 1 to "
           + std::to_string(limits::max_concurrency);
  if (o.connections < 1 || o.connections > limits::max_connections)
    return "--connections must be 1 to "
           + std::to_string(limits::max_connections);
  if (!o.rate && o.connections > concurrency_of(o))
    return "--connections (" + std::to_string(o.connections)
           + ") cannot exceed the callers (--concurrency "
           + std::to_string(concurrency_of(o))
           + "): each caller uses one connection";
  if (o.identities < 1 || o.identities > limits::max_identities)
    return "--identities must be 1 to "
           + std::to_string(limits::max_identities);
  if (o.count && (*o.count < 1 || *o.count > limits::max_count))
    return "--count must be 1 to " + std::to_string(limits::max_count);
  if (o.run_for && (*o.run_for <= 0ms || *o.run_for > limits::max_duration))
    return "--duration must be above 0 and at most 24h";
  if (c.timeout <= 0ms || c.timeout > limits::max_timeout)
    return "--timeout must be above 0 and at most 10m";
  if (c.duration <= 0s)
    return "--cert-duration must be above 0";
  bool given_token = c.no_token || !c.token_file.empty();
  bool one_caller = given_token || !c.service_account.empty();
  if (o.identities > 1 && one_caller)
    return "--identities makes service accounts load-0..N-1 and mints their "
           "tokens: not with --service-account, --token-file or --no-token";
  if (given_token && c.service_account.empty() && c.impersonate.empty())
    return "with --token-file or --no-token, --service-account names the "
           "identity to ask for (or pass --impersonate)";
  if (!c.impersonate.empty() && !one_caller)
    return "--impersonate asks as one trusted node agent: pass its "
           "--service-account (and --bound-pod) or --token-file";
  if (!c.bound_pod.empty() && (given_token || c.service_account.empty()))
    return "--bound-pod binds the token minted for --service-account";
  if (c.namespace_.empty())
    return "--namespace must not be empty";
  return {};
}

/// The caller's tokens and the identity each request asks for.
struct callers {
  std::vector<std::string> tokens;
  std::vector<std::string> identities;
};

caf::expected<callers> prepare_callers(const load_options& o, kube_access* kube,
                                       std::chrono::seconds expiration) {
  const auto& c = o.call;
  callers out;
  if (!c.service_account.empty() || c.no_token || !c.token_file.empty()) {
    std::string token;
    if (!c.token_file.empty() && !c.no_token) {
      auto t = read_token(c.token_file);
      if (!t)
        return t.error();
      token = std::move(*t);
    } else if (!c.no_token) {
      auto t = kube->mint_token(c.namespace_, c.service_account, c.audience,
                                expiration, c.bound_pod);
      if (!t)
        return t.error();
      token = std::move(*t);
    }
    out.tokens.push_back(std::move(token));
    out.identities.push_back(c.impersonate.empty() ? spiffe_id(
                               c.trust_domain, c.namespace_, c.service_account)
                                                   : c.impersonate);
    return out;
  }
  std::vector<std::string> names;
  for (size_t i = 0; i < o.identities; ++i)
    names.push_back("load-" + std::to_string(i));
  if (auto err = kube->ensure_service_accounts(c.namespace_, names))
    return err;
  auto tokens = kube->mint_tokens(c.namespace_, names, c.audience, expiration);
  if (!tokens)
    return tokens.error();
  out.tokens = std::move(*tokens);
  for (const auto& name : names)
    out.identities.push_back(spiffe_id(c.trust_domain, c.namespace_, name));
  return out;
}

/// The keys (a small pool: RSA keys are slow to make) and the requests, one
/// per identity, made before the clock starts.
struct workloads {
  std::vector<pki::private_key> keys; ///< request i uses key i mod size
  std::vector<ca_request> requests;
};

caf::expected<workloads> prepare_requests(const request_options& c,
                                          const callers& who) {
  workloads out;
  auto n = who.identities.size();
  for (size_t i = 0; i < std::min(n, load_limits::key_pool); ++i) {
    auto key = make_workload_key(c.key, c.key_size);
    if (!key)
      return pki::invalid("cannot make a key: " + errors::message(key.error()));
    out.keys.push_back(std::move(*key));
  }
  out.requests.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    auto csr
      = make_workload_csr(out.keys[i % out.keys.size()], who.identities[i]);
    if (!csr)
      return pki::invalid("cannot make a CSR: " + errors::message(csr.error()));
    ca_request req;
    req.token = who.tokens[i];
    req.cluster_id = c.cluster_id;
    req.csr_pem = csr->to_pem();
    req.validity_seconds = c.duration.count();
    if (c.impersonate.empty())
      req.metadata["CertSigner"] = c.cert_signer;
    else
      req.metadata["ImpersonatedIdentity"] = c.impersonate;
    out.requests.push_back(std::move(req));
  }
  return out;
}

/// The live progress line: rewritten in place on a terminal, with the rate
/// of successes since the last one.
struct progress_line {
  std::ostream& err;
  load_progress last;

  void operator()(const load_progress& p) {
    auto dt = seconds(p.elapsed - last.elapsed);
    auto rate = dt > 0 ? static_cast<double>(p.ok - last.ok) / dt : 0.0;
    err << "\r\x1b[K"
        << "csrctl load: " << fixed(seconds(p.elapsed), 0) << " s, " << p.total
        << " calls, " << p.ok << " ok, " << p.total - p.ok << " failed, "
        << p.retries << " retries, " << p.in_flight << " in flight, "
        << fixed(rate, 0) << " ok/s" << std::flush;
    last = p;
  }
};

/// The token lifetime: as given, else long enough for the run.
std::chrono::seconds token_lifetime(const load_options& o) {
  if (o.token_expiration_set || !o.run_for)
    return o.call.token_expiration;
  auto needed = std::chrono::duration_cast<std::chrono::seconds>(*o.run_for)
                + std::chrono::minutes{10};
  return std::max(o.call.token_expiration, needed);
}

load_settings settings_of(const load_options& o, size_t concurrency,
                          size_t identities) {
  load_settings s;
  s.address = o.call.address;
  s.concurrency = concurrency;
  s.connections = o.connections;
  s.identities = identities;
  s.key = o.call.key == key_type::ecdsa ? "ecdsa" : "rsa";
  s.key_size = o.call.key_size != 0
                 ? o.call.key_size
                 : (o.call.key == key_type::ecdsa ? 256 : 2048);
  s.rate = o.rate.value_or(0);
  s.count = o.count;
  s.duration = o.run_for;
  s.timeout = o.call.timeout;
  s.retry = o.retry;
  s.verify = o.verify;
  s.impersonate = !o.call.impersonate.empty();
  return s;
}

} // namespace

int run_load(const load_options& opts, std::ostream& out, std::ostream& err,
             bool live_progress) {
  auto fail = [&](int code, const std::string& text) {
    err << "error: " << text << '\n';
    return code;
  };
  if (auto problem = check_options(opts); !problem.empty())
    return fail(exit_local_failure, problem);
  const auto& c = opts.call;
  load_options o = opts;
  if (!o.count && !o.run_for)
    o.run_for = std::chrono::seconds{10};
  auto concurrency = concurrency_of(o);
  auto expiration = token_lifetime(o);
  if (o.run_for && expiration < *o.run_for + std::chrono::minutes{1})
    return fail(exit_local_failure,
                "--token-expiration must outlast --duration by a minute: the "
                "tokens are minted once, before the run");
  stop_signals signals;

  // Everything the calls need, made before the clock starts.
  bool mint = !c.no_token && c.token_file.empty();
  std::unique_ptr<kube_access> kube;
  if (mint || c.root_ca.empty()) {
    auto k = kube_access::make(c.kubeconfig);
    if (!k)
      return fail(exit_local_failure, errors::message(k.error()));
    kube = std::move(*k);
  }
  auto trust = trusted_roots(c, kube.get());
  if (!trust)
    return fail(exit_local_failure, errors::message(trust.error()));
  err << "csrctl: trusting the root of " << trust->source << '\n';
  auto who = prepare_callers(o, kube.get(), expiration);
  if (!who)
    return fail(exit_local_failure, errors::message(who.error()));
  auto work = prepare_requests(c, *who);
  if (!work)
    return fail(exit_local_failure, errors::message(work.error()));
  auto n = who->identities.size();
  const auto& keys = work->keys;
  err << "csrctl: " << n << " identit" << (n == 1 ? "y" : "ies") << " ready ("
      << keys.size() << " key" << (keys.size() == 1 ? "" : "s") << ")\n";
  if (stop_requested.load())
    return fail(exit_interrupted, "interrupted before the run");

  ca_target target;
  target.address = c.address;
  target.server_name = c.server_name;
  target.root_pem = trust->pem;
  auto calls = make_ca_client(target, std::move(work->requests), o.connections,
                              concurrency);
  auto connect_wait = std::min<std::chrono::milliseconds>(c.timeout, 10s);
  auto connected = calls->connect(calls->now() + connect_wait);
  if (connected < o.connections)
    err << "csrctl: " << connected << " of " << o.connections
        << " connections established within " << fixed(seconds(connect_wait), 1)
        << " s; calls on the others fail until they connect\n";

  if (stop_requested.load())
    return fail(exit_interrupted, "interrupted before the run");
  // From here on an interrupt ends the run with its report.
  err << "csrctl: running (Ctrl-C stops and reports)\n";

  load_plan plan;
  plan.connections = o.connections;
  plan.requests = n;
  plan.rate = o.rate.value_or(0);
  plan.count = o.count;
  if (o.run_for)
    plan.duration = *o.run_for;
  plan.timeout = c.timeout;
  plan.retry = o.retry;
  plan.seed = std::random_device{}();
  load_verifier verify;
  if (o.verify)
    verify = [&](size_t request, const ca_result& res) -> std::string {
      auto chain = parse_chain(res.cert_chain);
      if (!chain)
        return "unusable response: " + errors::message(chain.error());
      if (auto problem = check_chain(*chain, keys[request % keys.size()],
                                     who->identities[request]))
        return errors::message(problem);
      return {};
    };
  load_progress_handler progress;
  if (live_progress)
    progress = progress_line{err, {}};
  auto report = drive_load(*calls, plan, stop_requested, verify, progress);
  if (live_progress)
    err << "\r\x1b[K" << std::flush;
  report.settings = settings_of(o, concurrency, n);
  if (o.json)
    out << render_json(report) << '\n';
  else
    out << render_summary(report);
  out.flush();
  return exit_status(report);
}

} // namespace istio_csr::csrctl
