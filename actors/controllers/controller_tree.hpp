#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "caf/error.hpp"

#include "actors/controllers/leader_election.hpp"
#include "actors/controllers/namespace_watcher.hpp"
#include "actors/supervisor/child_spec.hpp"

namespace istio_csr::config {
struct options;
} // namespace istio_csr::config

namespace istio_csr::kube {
class client;
} // namespace istio_csr::kube

namespace istio_csr::actors::controllers {

/// Names of the controller children (docs/architecture.md).
namespace names {

inline constexpr const char* leader_election = "leader-election";
inline constexpr const char* namespace_watcher = "namespace-watcher";

} // namespace names

/// Builds one leader-only child. Called each time the leader-election child
/// starts, with that child's context: its siblings in the root supervisor
/// (`ctx.sibling("kube-client")`, `ctx.sibling("root-ca")`, ...) are
/// resolved there and captured by the returned spec, whose incarnations
/// then run under the leader supervisor on every term of leadership.
using leader_child_factory = std::function<child_spec(child_context& ctx)>;

/// Everything the controllers need.
struct controller_setup {
  std::shared_ptr<kube::client> client;
  leader_election_options election;
  namespace_watcher_options watcher;
  /// Leader-only children after the namespace watcher, in start order
  /// (e.g. the dynamic istiod Certificate). Append yours here.
  std::vector<leader_child_factory> leader_only;
};

/// The settings from the command line (`--leader-election-namespace`, the
/// `--leader-election-*` durations, `--configmap-namespace-selector`) and a
/// fresh identity (`make_leader_identity`). `client` is left to the caller;
/// `validate(election)` says whether the durations fit together.
controller_setup controller_settings_from(const config::options& opts);

/// The child spec of the namespace watcher, for the leader supervisor.
leader_child_factory
namespace_watcher_factory(namespace_watcher_options opts,
                          std::shared_ptr<kube::client> client);

/// The controller children of the root supervisor, in start order (after
/// the signing children, whose kube-client and root-ca they use): today
/// only `leader-election`, which on acquiring the Lease runs the leader
/// supervisor with the namespace watcher, then `setup.leader_only`.
std::vector<child_spec> controller_children(const controller_setup& setup);

} // namespace istio_csr::actors::controllers
