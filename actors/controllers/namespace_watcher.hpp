#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "caf/actor.hpp"
#include "caf/fwd.hpp"

#include "kube/client/client_actor.hpp"

#include "actors/controllers/configmap_actor.hpp"
#include "actors/supervisor/child_spec.hpp"
#include "kube/api/label_selector.hpp"

namespace istio_csr::kube {
class client;
} // namespace istio_csr::kube

namespace istio_csr::actors::controllers {

/// How the namespace watcher runs.
struct namespace_watcher_options {
  /// `--configmap-namespace-selector` (empty: every namespace).
  kube::label_selector selector;
  /// Settings of every configmap actor.
  configmap_options configmap;
  /// Intensity and backoff of the configmap supervisor. When one configmap
  /// actor fails more often than this allows, the supervisor gives up, the
  /// watcher fails with it and its own supervisor restarts both.
  std::size_t max_restarts = 5;
  caf::timespan window = std::chrono::seconds(60);
  backoff_policy backoff;
};

/// What the namespace watcher talks to.
struct namespace_watcher_deps {
  /// For the two informers (namespaces, ConfigMaps).
  std::shared_ptr<kube::client> client;
  /// The kube-client façade (stable handle), for the configmap actors.
  kube::client_actor kube;
  /// root-ca (stable handle), for the configmap actors.
  caf::actor roots;
};

/// The name of the configmap actor of `namespace_` in the configmap
/// supervisor: `configmap/<namespace_>`.
std::string configmap_child_name(std::string_view namespace_);

/// Spawns the namespace watcher (docs/upstream.md §5; leader-only). It runs two
/// informers: namespaces filtered by `opts.selector` (also sent to the
/// server as `labelSelector`, and checked again here), and one cluster-wide
/// informer of the ConfigMaps named `istio-ca-root-cert` (field selector
/// `metadata.name=istio-ca-root-cert`); both cache only what is read
/// (cache_records.hpp). Once both have listed, it keeps one
/// configmap actor (`spawn_configmap_actor`) per namespace that exists,
/// matches the selector and is not Terminating, as a child of a nested
/// supervisor ("configmap supervisor", linked to the watcher) added and
/// removed at runtime. A namespace that goes away, stops matching or
/// becomes Terminating loses its actor; its ConfigMap stays (as upstream).
/// Events of a namespace and of its ConfigMap are routed to its actor as
/// `(reconcile_atom)`.
///
/// An exit message (other than normal) stops the configmap supervisor and
/// its actors first, then the watcher. If the configmap supervisor gives
/// up, the watcher terminates with its reason.
///
/// `(configmap_stats_atom) -> watcher_stats`.
caf::actor spawn_namespace_watcher(caf::actor_system& sys,
                                   namespace_watcher_options opts,
                                   namespace_watcher_deps deps);

} // namespace istio_csr::actors::controllers
