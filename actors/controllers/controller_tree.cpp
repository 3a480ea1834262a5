#include "actors/controllers/controller_tree.hpp"

#include "actors/controllers/leader_election.hpp"
#include "actors/signing/signing_tree.hpp"
#include "config/options.hpp"

namespace istio_csr::actors::controllers {

controller_setup controller_settings_from(const config::options& opts) {
  using namespace std::chrono;
  controller_setup s;
  s.election.namespace_ = opts.controller.leader_election_namespace;
  s.election.identity = make_leader_identity();
  // Upstream's event sink writes into the certificate namespace.
  s.election.event_namespace = opts.issuer.certificate_namespace;
  s.election.lease_duration
    = ceil<seconds>(opts.controller.leader_election_lease_duration);
  s.election.renew_deadline = duration_cast<milliseconds>(
    opts.controller.leader_election_renew_deadline);
  s.election.retry_period
    = duration_cast<milliseconds>(opts.controller.leader_election_retry_period);
  s.watcher.selector = opts.controller.namespace_selector;
  return s;
}

leader_child_factory
namespace_watcher_factory(namespace_watcher_options opts,
                          std::shared_ptr<kube::client> client) {
  return [opts = std::move(opts),
          client = std::move(client)](child_context& parent) {
    namespace_watcher_deps deps{
      client,
      parent.sibling_as<kube::client_actor>(signing::names::kube_client),
      parent.sibling(signing::names::root_ca)};
    return child_spec{
      names::namespace_watcher, [opts, deps](child_context& ctx) {
        return spawn_namespace_watcher(ctx.system(), opts, deps);
      }};
  };
}

std::vector<child_spec> controller_children(const controller_setup& setup) {
  std::vector<leader_child_factory> factories;
  factories.push_back(namespace_watcher_factory(setup.watcher, setup.client));
  factories.insert(factories.end(), setup.leader_only.begin(),
                   setup.leader_only.end());
  child_spec election{
    names::leader_election,
    [opts = setup.election, factories](child_context& ctx) {
      std::vector<child_spec> leader_children;
      for (auto& make : factories)
        leader_children.push_back(make(ctx));
      return spawn_leader_election(
        ctx.system(), opts,
        ctx.sibling_as<kube::client_actor>(signing::names::kube_client),
        std::move(leader_children));
    }};
  // Stopping the leader-only actors and releasing the Lease takes longer
  // than a plain actor's stop.
  election.shutdown_timeout
    = setup.election.renew_deadline + std::chrono::seconds{5};
  return {std::move(election)};
}

} // namespace istio_csr::actors::controllers
