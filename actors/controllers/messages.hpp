#pragma once

// Atoms and message types of the controller actors (namespace watcher,
// configmap actors, leader election). Light: no actor headers, no Beast.

#include <cstdint>
#include <string>
#include <vector>

#include "caf/actor.hpp"
#include "caf/allowed_unsafe_message_type.hpp"
#include "caf/atom.hpp"

namespace istio_csr::actors::controllers {

// -- namespace watcher and configmap actors -----------------------------------

/// Internal to the namespace watcher: an event of its namespace informer.
using ns_event_atom = caf::atom_constant<caf::atom("ctl_nsev")>;

/// Internal to the namespace watcher: an event of its ConfigMap informer.
using cm_event_atom = caf::atom_constant<caf::atom("ctl_cmev")>;

/// `(reconcile_atom)` to a configmap actor: its namespace, its ConfigMap or
/// something else it depends on changed; it re-checks (coalesced: many
/// triggers while a check runs make one more check).
using reconcile_atom = caf::atom_constant<caf::atom("ctl_recon")>;

/// `(configmap_stats_atom) -> configmap_stats` (configmap actor),
/// `-> watcher_stats` (namespace watcher): for tests and diagnostics.
using configmap_stats_atom = caf::atom_constant<caf::atom("ctl_cmstat")>;

/// Counters of one configmap actor incarnation.
struct configmap_stats {
  std::string namespace_;
  /// Checks run (each trigger, coalesced).
  uint64_t reconciles = 0;
  /// Uncached GETs of the ConfigMap.
  uint64_t reads = 0;
  uint64_t creates = 0;
  uint64_t updates = 0;
  /// Writes refused with a conflict (retried on fresh state).
  uint64_t conflicts = 0;
  /// Other failed requests (retried with backoff).
  uint64_t errors = 0;
  /// Whether the last check found (or left) the ConfigMap as wanted.
  bool converged = false;
};

/// What the namespace watcher runs.
struct watcher_stats {
  /// Both informers (namespaces, ConfigMaps) have listed once.
  bool synced = false;
  /// Namespaces that have a configmap actor, sorted.
  std::vector<std::string> namespaces;
  /// The nested supervisor of the configmap actors.
  caf::actor configmap_supervisor;
};

// -- leader election
// ------------------------------------------------------------

/// Internal to leader election: time for the next acquire/renew attempt.
using leader_tick_atom = caf::atom_constant<caf::atom("ld_tick")>;

/// Internal to leader election: the renew deadline of renewal `uint64_t`.
using leader_deadline_atom = caf::atom_constant<caf::atom("ld_dline")>;

/// `(leader_status_atom) -> leader_status`: for tests and diagnostics.
using leader_status_atom = caf::atom_constant<caf::atom("ld_status")>;

/// What one leader-election incarnation knows.
struct leader_status {
  /// Our holderIdentity.
  std::string identity;
  /// Whether we lead (the leader supervisor runs).
  bool leading = false;
  /// The holder in the last Lease we read or wrote (empty: none).
  std::string holder;
  /// `leaseTransitions` of that Lease.
  int transitions = 0;
  /// How often this incarnation became leader.
  uint64_t acquisitions = 0;
  /// How often it stopped leading without being asked to.
  uint64_t losses = 0;
  /// The leader supervisor while leading.
  caf::actor leader_supervisor;
};

} // namespace istio_csr::actors::controllers

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(istio_csr::actors::controllers::configmap_stats)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(istio_csr::actors::controllers::watcher_stats)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(istio_csr::actors::controllers::leader_status)
