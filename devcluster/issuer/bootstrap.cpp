#include "devcluster/issuer/bootstrap.hpp"

#include <cstdio>
#include <future>

#include "config/kube_client_flags.hpp"
#include "devcluster/bootstrap.hpp"
#include "errors/describe.hpp"
#include "kube/api/errc.hpp"
#include "kube/client/client.hpp"
#include "kube/client/config.hpp"
#include "kube/client/kubeconfig.hpp"

namespace istio_csr::devcluster::issuer {

int bootstrap(const std::string& kubeconfig_path) {
  config::kube_client_flags flags;
  flags.kubeconfig = kubeconfig_path;
  auto cfg = kube::load_config(flags);
  if (!cfg) {
    std::fprintf(stderr, "devcluster bootstrap: %s\n",
                 errors::describe(cfg.error()).c_str());
    return 1;
  }
  kube::client_options opts;
  opts.user_agent = "devcluster-bootstrap";
  auto cli = kube::client::make(*cfg, opts);
  if (!cli) {
    std::fprintf(stderr, "devcluster bootstrap: %s\n",
                 errors::describe(cli.error()).c_str());
    return 1;
  }
  int failures = 0;
  for (auto& obj : bootstrap_objects()) {
    std::promise<caf::expected<nlohmann::json>> answer;
    auto future = answer.get_future();
    (*cli)->execute(
      kube::request::raw(kube::verb::create, "/" + obj.collection, obj.body),
      [&answer](caf::expected<nlohmann::json> result) {
        answer.set_value(std::move(result));
      });
    auto result = future.get();
    auto what = obj.collection + "/"
                + obj.body["metadata"].value("name", std::string{});
    if (result) {
      std::printf("created %s\n", what.c_str());
    } else if (kube::is(result.error(), kube::errc::already_exists)) {
      std::printf("exists %s\n", what.c_str());
    } else {
      std::fprintf(stderr, "devcluster bootstrap: %s: %s\n", what.c_str(),
                   errors::describe(result.error()).c_str());
      ++failures;
    }
  }
  std::fflush(stdout);
  return failures == 0 ? 0 : 1;
}

} // namespace istio_csr::devcluster::issuer
