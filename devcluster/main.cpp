// devcluster: a local Kubernetes API server with cert-manager's API, for
// `make run`, tests and benchmarks. See devcluster/README.md.

#include <cstdio>
#include <exception>
#include <iostream>

#include <CLI/CLI.hpp>

#include "devcluster/server.hpp"

#ifdef ICSR_DEVCLUSTER_ISSUER
#include "devcluster/issuer/bootstrap.hpp"
#include "devcluster/issuer/controllers.hpp"
#endif

namespace {

int run_issuer(const std::string& kubeconfig) {
#ifdef ICSR_DEVCLUSTER_ISSUER
  return istio_csr::devcluster::issuer::run(kubeconfig);
#else
  std::fprintf(stderr,
               "devcluster issuer: the cert-manager controllers are not part "
               "of this build (kubeconfig %s)\n",
               kubeconfig.c_str());
  return 2;
#endif
}

int run_bootstrap(const std::string& kubeconfig) {
#ifdef ICSR_DEVCLUSTER_ISSUER
  return istio_csr::devcluster::issuer::bootstrap(kubeconfig);
#else
  std::fprintf(stderr,
               "devcluster bootstrap: not part of this build (kubeconfig %s)\n",
               kubeconfig.c_str());
  return 2;
#endif
}

} // namespace

int main(int argc, char** argv) {
  using istio_csr::devcluster::server;
  using istio_csr::devcluster::server_options;
  server_options opts;
  opts.handle_signals = true;
  int64_t finalize_delay_ms = opts.namespace_finalize_delay.count();
  bool issuer_controllers = true;
  std::string issuer_kubeconfig;

  CLI::App app{"devcluster: a local Kubernetes API server (core/v1, leases, "
               "TokenRequest/TokenReview, cert-manager.io/v1) with in-memory "
               "state, for tests, benchmarks and `make run`. Prints "
               "\"devcluster listening on https://HOST:PORT\" once the "
               "kubeconfig is written."};
  app
    .add_option("--listen", opts.listen,
                "HOST:PORT to serve HTTPS on; port 0 picks a free port")
    ->capture_default_str();
  app.add_option("--kubeconfig-out", opts.kubeconfig_out,
                 "write an admin kubeconfig (CA data, bearer token) to FILE "
                 "(mode 0600) before printing the ready line");
  app.add_option("--admin-token", opts.admin_token,
                 "admin bearer token (default: random)");
  app
    .add_option("--history-size", opts.history_size,
                "writes kept for watch resumption and consistent paging; "
                "older resourceVersions get 410 Expired")
    ->capture_default_str();
  app
    .add_option("--service-account-issuer", opts.issuer,
                "`iss` of service-account tokens")
    ->capture_default_str();
  app
    .add_option("--api-audiences", opts.api_audiences,
                "audiences the API server accepts (default: the issuer); "
                "repeat or comma-separate")
    ->delimiter(',');
  app
    .add_option("--namespace-finalize-delay-ms", finalize_delay_ms,
                "delay before a Terminating namespace's content is removed")
    ->capture_default_str();
  app.add_option("--faults", opts.faults,
                 "initial fault injection, as JSON: {\"seed\":1,\"rules\":[{"
                 "\"verbs\":[\"create\"],\"resources\":[\"certificaterequests"
                 "\"],\"error\":500|429|503|504,\"retryAfterSeconds\":1,"
                 "\"latencyMs\":0,\"probability\":1.0,\"count\":N}],\"watch\":"
                 "{\"dropAfterEvents\":N,\"dropAfterSeconds\":T}}; also "
                 "GET/POST /devcluster/v1/faults at runtime (admin token)");
  app
    .add_option("-v,--v", opts.verbosity,
                "log verbosity: 0 quiet, 1 start-up and errors, 2 every "
                "request (method, target, status, duration) on stderr")
    ->capture_default_str();
  app.add_flag("!--no-bootstrap", opts.bootstrap,
               "start empty: no namespaces, no istio-ca Secret and Issuer");
  app.add_flag("!--no-issuer-controllers", issuer_controllers,
               "do not run the in-process cert-manager controllers (when "
               "built)");
  auto* issuer_cmd = app.add_subcommand(
    "issuer", "run only the cert-manager controllers (CA issuer, "
              "Certificate) against the cluster of a kubeconfig");
  issuer_cmd->add_option("--kubeconfig", issuer_kubeconfig, "kubeconfig FILE")
    ->required();
  std::string bootstrap_kubeconfig;
  auto* bootstrap_cmd = app.add_subcommand(
    "bootstrap", "create on the cluster of a kubeconfig what a fresh "
                 "devcluster holds (namespace istio-system, the istio-ca "
                 "root Secret and CA Issuer), keeping what exists; for "
                 "running the tests against a real cluster");
  bootstrap_cmd
    ->add_option("--kubeconfig", bootstrap_kubeconfig, "kubeconfig FILE")
    ->required();
  CLI11_PARSE(app, argc, argv);

  if (*issuer_cmd)
    return run_issuer(issuer_kubeconfig);
  if (*bootstrap_cmd)
    return run_bootstrap(bootstrap_kubeconfig);

  opts.namespace_finalize_delay = std::chrono::milliseconds{finalize_delay_ms};
  try {
    server srv{opts};
    srv.start();
    std::printf("devcluster listening on %s\n", srv.url().c_str());
    std::fflush(stdout);
#ifdef ICSR_DEVCLUSTER_ISSUER
    std::unique_ptr<istio_csr::devcluster::issuer::controllers> controllers;
    if (issuer_controllers)
      controllers = istio_csr::devcluster::issuer::start(srv.kubeconfig());
#else
    (void)issuer_controllers;
#endif
    srv.run();
#ifdef ICSR_DEVCLUSTER_ISSUER
    controllers.reset();
#endif
  } catch (const std::exception& e) {
    std::fprintf(stderr, "devcluster: %s\n", e.what());
    return 1;
  }
  return 0;
}
