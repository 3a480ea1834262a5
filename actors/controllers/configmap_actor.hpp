#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "caf/actor.hpp"
#include "caf/fwd.hpp"

#include "kube/client/client_actor.hpp"

namespace istio_csr::kube {
class informer;
} // namespace istio_csr::kube

namespace istio_csr::actors::controllers {

/// How a configmap actor retries.
struct configmap_options {
  /// CAF-side deadline of one API call (the client retries below it).
  std::chrono::milliseconds request_timeout{60'000};
  /// Backoff after a failed call: `initial`, doubling, at most `max`.
  std::chrono::milliseconds initial_backoff{100};
  std::chrono::milliseconds max_backoff{30'000};
  /// Conflicts (stale resourceVersion, a create that lost a race) retried
  /// at once on fresh state before backing off.
  std::size_t conflict_retries = 5;
};

/// What a configmap actor talks to.
struct configmap_deps {
  /// The kube-client façade (stable handle): every read and write goes
  /// through it, hence through the client's rate limiter.
  kube::client_actor kube;
  /// root-ca (stable handle): `(roots_subscribe_atom, self)` at start, then
  /// `(roots_changed_atom, roots_ptr)` now and on every change.
  caf::actor roots;
  /// The namespace watcher's cluster-wide informer of `istio-ca-root-cert`
  /// ConfigMaps (cached as records: cache_records.hpp). Read-only:
  /// its cache says whether a check needs the API at all (an idle cluster
  /// costs no request).
  std::shared_ptr<const kube::informer> cache;
};

/// Spawns the configmap actor of `namespace_`: it owns
/// `<namespace_>/istio-ca-root-cert` (docs/upstream.md §5) and keeps it equal
/// to the current roots.
///
/// A check runs at start, on `(reconcile_atom)` (the namespace watcher
/// routes events of the namespace and of the ConfigMap) and on every root
/// change. When the informer's cached ConfigMap already is as wanted, the
/// check makes no request. Otherwise it reads the ConfigMap from the API
/// server (uncached, like upstream) and creates or updates it with
/// `plan_root_cert`: nothing is written unless something differs.
/// Optimistic concurrency: an update carries the resourceVersion read; a
/// conflict (or a create that finds one) is retried at once on fresh
/// state, other failures after an exponential backoff. Triggers during a
/// check coalesce into one more check. Without roots yet, it waits for
/// them.
///
/// The actor never deletes the ConfigMap; the namespace watcher stops the
/// actor when the namespace goes, stops matching or is Terminating.
///
/// `(configmap_stats_atom) -> configmap_stats`.
caf::actor spawn_configmap_actor(caf::actor_system& sys, std::string namespace_,
                                 configmap_options opts, configmap_deps deps);

} // namespace istio_csr::actors::controllers
