#include "devcluster/issuer/controllers.hpp"

#include <csignal>
#include <cstdio>
#include <future>
#include <stdexcept>

#include "config/kube_client_flags.hpp"
#include "devcluster/issuer/engine.hpp"
#include "devcluster/issuer/key_worker.hpp"
#include "errors/describe.hpp"
#include "kube/api/errc.hpp"
#include "kube/client/client.hpp"
#include "kube/client/config.hpp"
#include "kube/client/kubeconfig.hpp"
#include "logging/logging.hpp"

namespace istio_csr::devcluster::issuer {

struct controllers::impl {
  std::shared_ptr<kube::client> cli;
  key_worker worker;
  std::shared_ptr<engine> eng;

  ~impl() {
    // 1. Stop the engine on the client's thread: afterwards no informer,
    //    completion or timer does anything.
    if (eng && cli) {
      std::promise<void> stopped;
      auto future = stopped.get_future();
      cli->post([e = eng, &stopped] {
        e->shutdown();
        stopped.set_value();
      });
      future.wait();
    }
    // 2. No job may post to the client once it is gone.
    worker.stop();
    // 3. The client (its destructor joins its thread).
    eng.reset();
    cli.reset();
  }
};

controllers::controllers(std::unique_ptr<impl> ptr) : impl_(std::move(ptr)) {
  // nop
}

controllers::~controllers() = default;

std::unique_ptr<controllers> start(const kube::client_config& cfg) {
  kube::client_options opts;
  opts.user_agent = "devcluster-issuer";
  auto cli = kube::client::make(cfg, opts);
  if (!cli)
    throw std::runtime_error("devcluster issuer: "
                             + istio_csr::errors::describe(cli.error()));
  auto state = std::make_unique<controllers::impl>();
  state->cli = std::move(*cli);
  state->eng = std::make_shared<engine>(state->cli, state->worker);
  state->eng->start();
  return std::make_unique<controllers>(std::move(state));
}

std::unique_ptr<controllers> start(const std::string& kubeconfig_yaml) {
  auto kc = kube::parse_kubeconfig(kubeconfig_yaml, "<devcluster>");
  if (!kc)
    throw std::runtime_error("devcluster issuer: "
                             + istio_csr::errors::describe(kc.error()));
  auto fail = [](const std::string& what) {
    return std::runtime_error("devcluster issuer: kubeconfig: " + what);
  };
  auto ctx = kc->contexts.find(kc->current_context);
  if (ctx == kc->contexts.end())
    throw fail("no current context");
  auto cluster = kc->clusters.find(ctx->second.cluster);
  if (cluster == kc->clusters.end())
    throw fail("no cluster " + ctx->second.cluster);
  kube::client_config cfg;
  cfg.server = cluster->second.server;
  cfg.ca_pem = cluster->second.certificate_authority_data;
  cfg.tls_server_name = cluster->second.tls_server_name;
  cfg.insecure_skip_tls_verify = cluster->second.insecure_skip_tls_verify;
  if (auto user = kc->users.find(ctx->second.user); user != kc->users.end()) {
    cfg.token = user->second.token;
    cfg.token_file = user->second.token_file;
    cfg.client_cert_pem = user->second.client_certificate_data;
    cfg.client_key_pem = user->second.client_key_data;
  }
  cfg.namespace_ = ctx->second.namespace_;
  cfg.source = "devcluster kubeconfig";
  return start(cfg);
}

int run(const std::string& kubeconfig_path) {
  // Block the signals before any thread starts, then wait for them here.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  config::kube_client_flags flags;
  flags.kubeconfig = kubeconfig_path;
  auto cfg = kube::load_config(flags);
  if (!cfg) {
    std::fprintf(stderr, "devcluster issuer: %s\n",
                 istio_csr::errors::describe(cfg.error()).c_str());
    return 1;
  }
  std::unique_ptr<controllers> running;
  try {
    running = start(*cfg);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  std::printf("devcluster issuer running against %s\n", cfg->server.c_str());
  std::fflush(stdout);
  int sig = 0;
  sigwait(&signals, &sig);
  logging::info(*logging::get("devcluster-issuer"), "stopping",
                {{"signal", std::to_string(sig)}});
  running.reset();
  return 0;
}

} // namespace istio_csr::devcluster::issuer
