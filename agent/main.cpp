// istio-csr: the agent. Startup order (docs/architecture.md):
// config → logging → root CA file → Kubernetes client → actor system →
// supervision tree → gRPC server → readiness server → metrics → debug
// endpoint and chaos mode (when asked for) → wait for SIGTERM or SIGINT →
// graceful shutdown within --shutdown-grace-period (readiness off, Lease
// released while gRPC drains, actors stopped, a watchdog behind it all).
// Any startup error is logged as "error running cert-manager-istio-csr"
// and exits 1.
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <functional>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>

#include <pthread.h>
#include <unistd.h>

#include "caf/actor_system.hpp"
#include "caf/exit_reason.hpp"
#include "caf/scoped_actor.hpp"
#include "caf/send.hpp"
#include "caf/system_messages.hpp"

#include "actors/ambient/trusted_accounts.hpp"
#include "actors/chaos/chaos_monkey.hpp"
#include "actors/controllers/controller_tree.hpp"
#include "actors/controllers/istiod_cert.hpp"
#include "actors/controllers/runtime_issuer.hpp"
#include "actors/signing/active_issuer.hpp"
#include "actors/signing/dispatcher.hpp"
#include "actors/signing/errors.hpp"
#include "actors/signing/file_watcher.hpp"
#include "actors/signing/root_store.hpp"
#include "actors/signing/signing_tree.hpp"
#include "actors/supervisor/supervisor.hpp"
#include "actors/system/system_config.hpp"
#include "config/go_duration.hpp"
#include "config/parse.hpp"
#include "debug/server.hpp"
#include "errors/describe.hpp"
#include "grpc_bridge/server.hpp"
#include "health/server.hpp"
#include "kube/api/errc.hpp"
#include "kube/client/client.hpp"
#include "kube/client/config.hpp"
#include "logging/logging.hpp"
#include "metrics/endpoint.hpp"
#include "pki/error.hpp"
#include "process/fd_limit.hpp"
#include "process/shutdown_budget.hpp"
#include "process/shutdown_watchdog.hpp"

namespace {

using namespace istio_csr;
namespace signing = istio_csr::actors::signing;

using steady = std::chrono::steady_clock;

void write(std::FILE* out, const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), out);
  std::fflush(out);
}

/// A startup failure: logged as upstream does, exit code 1.
struct startup_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// `config::options` TLS fields in OpenSSL terms. Suites and curves that
/// k8s accepts but OpenSSL 3 lacks (RC4, 3DES, ...) are skipped with a
/// warning: Go would offer them, we cannot.
grpc_bridge::tls_settings tls_settings_from(const config::options& opts,
                                            spdlog::logger& log) {
  grpc_bridge::tls_settings tls;
  tls.trust_domain = opts.tls.trust_domain;
  tls.min_version = opts.tls.min_version == config::tls_version::tls13
                      ? grpc_bridge::tls_version::v1_3
                      : grpc_bridge::tls_version::v1_2;
  for (const auto& suite : opts.tls.cipher_suites) {
    if (suite.tls13)
      continue; // as in Go: TLS 1.3 suites are not configurable
    std::string name{suite.openssl_name};
    if (name.empty() || !grpc_bridge::cipher_available(name)) {
      logging::warn(log, "cipher suite not available in OpenSSL, skipped",
                    {{"cipher", std::string{suite.name}}});
      continue;
    }
    tls.cipher_suites.push_back(std::move(name));
  }
  for (const auto& curve : opts.tls.curves) {
    if (curve.openssl_group.empty()
        || !grpc_bridge::curve_available(curve.openssl_group)) {
      logging::warn(log, "curve not available in OpenSSL, skipped",
                    {{"curve", curve.go_name}});
      continue;
    }
    tls.curves.push_back(curve.openssl_group);
  }
  if (auto err = grpc_bridge::validate(tls))
    throw startup_error{"invalid serving TLS settings: "
                        + errors::message(err)};
  return tls;
}

/// Raises the descriptor limit and lowers `transport.max_connections` to
/// what it allows: a connection takes three descriptors (the TCP socket and
/// both ends of the socketpair to grpc), and the rest of the process keeps
/// a reserve (API server connections, files, probes).
void fit_connections_to_fd_limit(grpc_bridge::tls_server_settings& transport,
                                 spdlog::logger& log) {
  constexpr std::uint64_t reserve = 256;
  constexpr std::uint64_t per_connection = 3;
  auto fds = process::raise_fd_limit();
  auto fit = fds.soft > reserve + per_connection
               ? (fds.soft - reserve) / per_connection
               : std::uint64_t{1};
  if (transport.max_connections > fit) {
    logging::warn(log,
                  "the open-file limit allows fewer gRPC connections than "
                  "the default; raise the limit to serve more",
                  {{"fd-limit", std::to_string(fds.soft)},
                   {"max-connections", std::to_string(fit)}});
    transport.max_connections = static_cast<std::size_t>(fit);
  } else {
    logging::info(
      log, "connection limits",
      {{"fd-limit", std::to_string(fds.soft)},
       {"max-connections", std::to_string(transport.max_connections)},
       {"max-handshakes", std::to_string(transport.max_handshakes)}});
  }
}

std::string issuer_text(const config::options& opts) {
  if (!opts.issuer.static_issuer)
    return "<runtime>";
  const auto& ref = *opts.issuer.static_issuer;
  return ref.name + "/" + ref.kind + "/" + ref.group;
}

/// Logs what `--ca-trusted-node-accounts` enables (Ambient ztunnel
/// impersonation) and the entries it ignores.
void log_node_authorization(const config::options& opts,
                            const signing::signing_setup& setup) {
  auto log = logging::get("node-authorizer");
  auto trusted = actors::ambient::trusted_accounts::parse(
    opts.serving.ca_trusted_node_accounts);
  for (const auto& entry : trusted.ignored())
    logging::warn(*log,
                  "ignoring invalid trusted node account: expected "
                  "namespace/serviceaccount",
                  {{"value", entry}});
  if (setup.pod_index)
    logging::info(*log,
                  "node authorization enabled: these service accounts may "
                  "impersonate identities running on their node",
                  {{"trusted-node-accounts", trusted.to_string()}});
}

/// The watchdog's action when the shutdown overruns its grace period: an
/// error naming the phase (what did not stop), then exit status 1.
[[noreturn]] void exit_overrun(const std::string& phase,
                               config::duration grace) {
  // A log sink that blocks (a full pipe) must not keep the process alive:
  // SIGALRM's default action ends it a second later.
  ::alarm(1);
  logging::error(*logging::get("manager"),
                 "shutdown did not finish within the grace period, exiting",
                 {{"phase", phase},
                  {"shutdown-grace-period", config::format_go_duration(grace)},
                  {"exit_code", "1"}});
  spdlog::apply_all(
    [](const std::shared_ptr<spdlog::logger>& l) { l->flush(); });
  std::fflush(stderr);
  std::fflush(stdout);
  std::_Exit(1);
}

/// The names of the children the supervisor `sup` has not stopped yet (in
/// start order), asked with a short timeout; empty if it does not answer
/// (or is no supervisor).
std::string remaining_children(caf::scoped_actor& self, const caf::actor& sup) {
  std::string names;
  self
    ->request(sup, std::chrono::milliseconds{200},
              actors::child_status_atom::value)
    .receive(
      [&](std::vector<actors::child_status>& children) {
        for (auto& c : children)
          names += (names.empty() ? "" : ",") + c.name;
      },
      [](caf::error&) {});
  return names;
}

/// Stops `actor` (a supervisor: its tree, in order) and waits for it until
/// `deadline`; then names the children it has not stopped and kills it.
void stop_actor(caf::actor_system& sys, const caf::actor& actor,
                steady::time_point deadline,
                process::shutdown_watchdog& watchdog) {
  caf::scoped_actor self{sys};
  self->monitor(actor);
  caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
  bool down = false;
  auto left = std::max(deadline - steady::now(), steady::duration::zero());
  self->receive([&](caf::down_msg&) { down = true; },
                caf::after(left) >> [&] {});
  if (down)
    return;
  auto remaining = remaining_children(self, actor);
  watchdog.phase("killing the actors that did not stop: " + remaining);
  logging::warn(*logging::get("manager"),
                "actors did not stop in time, killing them",
                {{"not-stopped", remaining}});
  caf::anon_send_exit(actor, caf::exit_reason::kill);
}

/// Starts the debug endpoint (`--debug-address`); says where, and loudly
/// when it listens beyond loopback.
std::unique_ptr<debug::server> start_debug_endpoint(const config::options& opts,
                                                    caf::actor_system& sys,
                                                    const caf::actor& root,
                                                    const caf::actor& chaos) {
  debug::settings ds;
  ds.address = opts.debug.listen.host;
  ds.port = opts.debug.listen.port;
  ds.chaos = chaos;
  auto result = std::make_unique<debug::server>(sys, root, ds);
  if (auto err = result->start())
    throw startup_error{"failed to start the debug endpoint on "
                        + opts.debug.address + ": " + errors::message(err)};
  bool loopback = opts.debug.listen.loopback;
  logging::log(*logging::get("debug"),
               loopback ? spdlog::level::info : spdlog::level::warn,
               loopback ? "serving the debug endpoint on loopback only (it "
                          "lists and kills actors, without authentication)"
                        : "serving the debug endpoint BEYOND LOOPBACK, as "
                          "--debug-address asks: anyone who reaches it can "
                          "list and kill actors, without authentication",
               {{"address", opts.debug.listen.host},
                {"port", std::to_string(result->port())},
                {"loopback", loopback ? "true" : "false"},
                {"path", "/debug/actors"}});
  return result;
}

/// Starts chaos mode (`--chaos-kill-interval`), with an unmissable warning.
caf::actor start_chaos_mode(const config::options& opts, caf::actor_system& sys,
                            const caf::actor& root) {
  int64_t seed = 0;
  if (opts.chaos.seed) {
    seed = *opts.chaos.seed;
  } else {
    std::random_device rd;
    seed = static_cast<int64_t>((static_cast<uint64_t>(rd()) << 32) | rd());
  }
  std::string actors;
  for (const auto& pattern : opts.chaos.actors)
    actors += (actors.empty() ? "" : ",") + pattern;
  logging::warn(
    *logging::get("chaos"),
    "CHAOS MODE IS ON: a random actor is killed at every interval (for "
    "chaos tests only, never in production)",
    {{"interval", config::format_go_duration(opts.chaos.kill_interval)},
     {"seed", std::to_string(seed)},
     {"actors", actors.empty() ? "*" : actors},
     {"include-supervisors", opts.chaos.include_supervisors ? "true" : "false"},
     {"allow-give-up", opts.chaos.allow_give_up ? "true" : "false"},
     {"repeat-with", "--chaos-seed=" + std::to_string(seed)}});
  return actors::chaos::spawn_chaos_monkey(
    sys, root,
    actors::chaos::chaos_settings_from(opts.chaos,
                                       static_cast<uint64_t>(seed)));
}

int run(const config::options& opts) {
  auto log = logging::get("manager");
  // Declared first, destroyed last: it also covers the destruction of the
  // actor system and of the Kubernetes clients.
  auto grace = opts.serving.shutdown_grace_period;
  process::shutdown_watchdog watchdog{
    [grace](const std::string& phase) { exit_overrun(phase, grace); }};
  // SIGTERM and SIGINT are taken with sigwait below: block them before any
  // thread starts, so every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // The mesh roots: from --root-ca-file (fatal if unusable) or, later, from
  // the serving CertificateRequest.
  std::shared_ptr<signing::root_store> roots;
  if (!opts.tls.root_ca_file.empty()) {
    auto content = signing::read_whole_file(opts.tls.root_ca_file);
    if (!content)
      throw startup_error{"failed to read root CA file " + opts.tls.root_ca_file
                          + ": " + errors::message(content.error())};
    auto bundle = signing::policy::load_root_bundle(std::move(*content));
    if (!bundle)
      throw startup_error{"failed to load root CA file " + opts.tls.root_ca_file
                          + ": " + errors::message(bundle.error())};
    logging::info(*log, "loaded root CA bundle",
                  {{"file", opts.tls.root_ca_file},
                   {"certificates", std::to_string(bundle->certs.size())}});
    roots = std::make_shared<signing::root_store>(std::move(*bundle));
  } else {
    logging::warn(*log,
                  "no root CA file provided: the root CA bundle is taken "
                  "from the issuer's ca.crt, which makes root rotation hard");
    roots = std::make_shared<signing::root_store>();
  }

  // The Kubernetes client.
  auto kube_cfg = kube::load_config(opts.kube);
  if (!kube_cfg)
    throw startup_error{"failed to build the Kubernetes client configuration: "
                        + errors::describe(kube_cfg.error())};
  logging::info(*log, "Kubernetes API server",
                {{"server", kube_cfg->server}, {"source", kube_cfg->source}});
  auto make_client = [&] {
    auto c = kube::client::make(*kube_cfg);
    if (!c)
      throw startup_error{"failed to create the Kubernetes client: "
                          + errors::describe(c.error())};
    return std::move(*c);
  };
  auto client = make_client();
  // Leader election has a client of its own (leader_election.hpp).
  auto election_client = make_client();

  // The actor system.
  actors::system_config cfg;
  caf::actor_system sys{cfg};

  // The gRPC server (started once the tree runs).
  grpc_bridge::server_settings server_settings;
  server_settings.transport.address = opts.serving.address;
  server_settings.tls = tls_settings_from(opts, *log);
  server_settings.max_active_calls
    = static_cast<std::size_t>(opts.serving.max_concurrent_requests);
  server_settings.transport.request_read_timeout
    = std::chrono::duration_cast<std::chrono::milliseconds>(
      opts.serving.request_read_timeout);
  fit_connections_to_fd_limit(server_settings.transport, *log);
  auto handler = std::make_shared<signing::dispatch_handler>();
  auto server = std::make_shared<grpc_bridge::server>(server_settings, handler);
  // Root changes reach client-certificate verification at once (upstream:
  // only at the next serving certificate).
  roots->add_listener([server](const signing::root_store::bundle_ptr& b) {
    if (auto err = server->set_roots(b->certs))
      logging::error(*logging::get("tls-provider"),
                     "failed to install the new roots",
                     {{"err", errors::message(err)}});
  });

  // The supervision tree.
  auto setup = signing::settings_from(opts);
  setup.client = client;
  log_node_authorization(opts, setup);
  std::optional<kube::issuer_ref> issuer;
  if (opts.issuer.static_issuer)
    issuer = kube::issuer_ref{opts.issuer.static_issuer->name,
                              opts.issuer.static_issuer->kind,
                              opts.issuer.static_issuer->group};
  setup.issuer = std::make_shared<signing::active_issuer>(issuer);
  setup.roots = roots;
  setup.sink
    = [server](std::vector<pki::certificate> chain, pki::private_key key,
               std::vector<pki::certificate> root_certs) {
        return server->set_credentials(std::move(chain), std::move(key),
                                       std::move(root_certs));
      };
  actors::supervisor_options sup_opts;
  sup_opts.name = "root";
  auto children = signing::signing_children(setup);
  // The runtime issuer ConfigMap watcher runs on every replica
  // (docs/upstream.md §3.5).
  if (opts.runtime_config.enabled())
    children.push_back(actors::controllers::runtime_issuer_child(
      actors::controllers::runtime_issuer_options_from(opts), client,
      setup.issuer));
  // Leader election (and, while leading, the ConfigMap distributor) after
  // the signing children, whose kube-client and root-ca it uses.
  auto controllers = actors::controllers::controller_settings_from(opts);
  controllers.client = client;
  controllers.election.client = election_client;
  // The dynamic istiod Certificate runs on the leader only
  // (docs/upstream.md §6).
  if (opts.istiod_cert.enabled) {
    actors::controllers::istiod_cert_options istiod;
    istiod.cert = actors::controllers::istiod_cert_settings_from(opts);
    controllers.leader_only.push_back(actors::controllers::istiod_cert_factory(
      std::move(istiod), client, setup.issuer));
  }
  if (auto err = actors::controllers::validate(controllers.election))
    throw startup_error{"invalid leader election settings: "
                        + errors::message(err)};
  for (auto& child : actors::controllers::controller_children(controllers))
    children.push_back(std::move(child));
  auto tree = actors::spawn_supervisor(sys, sup_opts, std::move(children));
  if (!tree)
    throw startup_error{"failed to start the actors: "
                        + errors::describe(tree.error())};
  handler->bind(caf::actor_cast<signing::dispatcher_actor>(
    tree->child(signing::names::dispatcher)));
  // Whatever happens from here on, the actors stop before the actor system
  // goes (its destructor waits for them) and nothing outlives it holding an
  // actor handle.
  std::atomic<bool> stopping{false};
  health::settings hs;
  hs.port = static_cast<std::uint16_t>(opts.telemetry.readiness_probe_port);
  hs.path = opts.telemetry.readiness_probe_path;
  health::server health_server{hs};
  std::unique_ptr<metrics::endpoint> metrics_endpoint;
  if (opts.telemetry.metrics_port != 0) {
    metrics::endpoint_settings ms;
    ms.port = static_cast<std::uint16_t>(opts.telemetry.metrics_port);
    metrics_endpoint = std::make_unique<metrics::endpoint>(ms);
  }
  // Debugging aids (off by default), started last, stopped first.
  std::unique_ptr<debug::server> debug_server;
  caf::actor chaos;
  struct cleanup {
    std::function<void()> fn;
    ~cleanup() {
      fn();
    }
  } on_exit{[&] {
    // Every way out (a signal, a startup error) has the same budget.
    auto start = steady::now();
    auto budget = process::shutdown_budget::of(
      std::chrono::duration_cast<std::chrono::milliseconds>(grace));
    watchdog.arm(start + budget.deadline);
    stopping = true;
    watchdog.phase("stopping the debugging aids");
    if (chaos)
      stop_actor(sys, chaos, start + budget.drain, watchdog);
    if (debug_server)
      debug_server->stop();
    // The Lease goes while gRPC drains: the election stops its leader-only
    // actors, then releases the Lease (answered once done; not waited for
    // here). The root supervisor's own stop below waits for it.
    caf::anon_send(tree->supervisor, actors::remove_child_atom::value,
                   std::string{actors::controllers::names::leader_election});
    // Drain gRPC: calls in flight get their answers (their signers still
    // run), the rest are cancelled, which deletes their CertificateRequests.
    watchdog.phase("draining gRPC calls");
    logging::info(*log, "draining gRPC calls",
                  {{"drain", config::format_go_duration(budget.drain)}});
    server->shutdown(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::max(
        start + budget.drain - steady::now(), steady::duration::zero())));
    watchdog.phase("stopping the actors");
    logging::info(*log, "stopping the actors");
    stop_actor(sys, tree->supervisor, start + budget.actors_by, watchdog);
    watchdog.phase("stopping the readiness and metrics servers");
    health_server.stop();
    if (metrics_endpoint)
      metrics_endpoint->stop();
    handler->bind(signing::dispatcher_actor{});
    // What is left runs in destructors: the gRPC server, the actor system
    // (it waits for every actor) and the Kubernetes clients (their threads).
    watchdog.phase("closing the actor system and the Kubernetes clients");
    logging::info(*log, "stopped");
  }};

  if (auto err = server->start())
    throw startup_error{"failed to start the gRPC server on "
                        + opts.serving.address + ": " + errors::message(err)};
  logging::info(*logging::get("grpc-server"), "serving gRPC",
                {{"serving-addr", opts.serving.address},
                 {"port", std::to_string(server->port())}});

  // Readiness. Upstream reports ready while no issuer is configured (a
  // pure-runtime install waiting for its ConfigMap): kept.
  auto active_issuer = setup.issuer;
  health_server.add_check(
    "tls_provider",
    [server, active_issuer, &stopping]() -> std::optional<std::string> {
      if (stopping)
        return "shutting down";
      if (server->has_tls_config() || !active_issuer->get())
        return std::nullopt;
      return "serving certificate not ready";
    });
  // Ambient: no impersonation is refused for want of a pod cache.
  if (auto status = setup.pod_index_status)
    health_server.add_check(
      "pod_index", [status, &stopping]() -> std::optional<std::string> {
        if (stopping)
          return "shutting down";
        if (!status->synced)
          return "pod cache not synced";
        return std::nullopt;
      });
  health_server.add_check("grpc_server",
                          [server, &stopping]() -> std::optional<std::string> {
                            if (stopping || !server->serving())
                              return "gRPC server not serving";
                            return std::nullopt;
                          });
  if (auto err = health_server.start())
    throw startup_error{"failed to start the readiness server on port "
                        + std::to_string(hs.port) + ": "
                        + errors::message(err)};
  logging::info(
    *log, "serving readiness",
    {{"port", std::to_string(health_server.port())}, {"path", hs.path}});
  // Prometheus metrics (upstream: 0.0.0.0:--metrics-port; 0 disables).
  if (metrics_endpoint) {
    if (auto err = metrics_endpoint->start())
      throw startup_error{"failed to start the metrics server on port "
                          + std::to_string(opts.telemetry.metrics_port) + ": "
                          + errors::message(err)};
    logging::info(*log, "serving metrics",
                  {{"port", std::to_string(metrics_endpoint->port())},
                   {"path", "/metrics"}});
  } else {
    logging::info(*log, "metrics disabled (--metrics-port=0)");
  }
  if (opts.chaos.enabled())
    chaos = start_chaos_mode(opts, sys, tree->supervisor);
  if (opts.debug.enabled())
    debug_server = start_debug_endpoint(opts, sys, tree->supervisor, chaos);

  // Wait for SIGTERM/SIGINT on this (non-actor) thread.
  int sig = 0;
  sigwait(&signals, &sig);
  logging::info(*log, "shutting down",
                {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"},
                 {"shutdown-grace-period", config::format_go_duration(grace)}});
  stopping = true;
  // `on_exit` drains and stops everything.
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  using namespace istio_csr;
  auto res = config::parse(argc, argv);
  if (!res.should_run()) {
    write(stdout, res.out_text);
    write(stderr, res.err_text);
    return res.exit_code;
  }
  const auto& opts = *res.opts;
  logging::init(
    {opts.telemetry.log_level, opts.telemetry.format == config::log_format::json
                                 ? logging::format::json
                                 : logging::format::text});
  auto log = logging::get("manager");
  // Never log --token or keys: only non-secret settings here.
  logging::info(
    *log, "starting istio-csr",
    {{"version", config::version()},
     {"serving-address", opts.serving.address},
     {"certificate-namespace", opts.issuer.certificate_namespace},
     {"trust-domain", opts.tls.trust_domain},
     {"issuer", issuer_text(opts)},
     {"max-client-certificate-duration",
      config::format_go_duration(opts.serving.max_client_certificate_duration)},
     {"certificate-request-timeout",
      config::format_go_duration(opts.issuer.certificate_request_timeout)}});
  if (opts.issuer.preserve_certificate_requests)
    logging::warn(*log, "preserving CertificateRequests: they are not deleted "
                        "after signing (debug only)");
  if (opts.kube.disable_rate_limiter)
    logging::info(*log, "the Kubernetes client-side rate limiter is disabled");
  try {
    return run(opts);
  } catch (const std::exception& e) {
    logging::error(*log, "error running cert-manager-istio-csr",
                   {{"err", e.what()}});
    spdlog::apply_all(
      [](const std::shared_ptr<spdlog::logger>& l) { l->flush(); });
    return 1;
  }
}
