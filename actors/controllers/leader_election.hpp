#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "caf/actor.hpp"
#include "caf/error.hpp"
#include "caf/fwd.hpp"

#include "kube/client/client_actor.hpp"

#include "actors/supervisor/child_spec.hpp"

namespace istio_csr::kube {
class client;
} // namespace istio_csr::kube

namespace istio_csr::actors::controllers {

/// Leader election on a `coordination.k8s.io/v1` Lease, as client-go's
/// `leaderelection` with controller-runtime's defaults (docs/upstream.md §7).
struct leader_election_options {
  /// `--leader-election-namespace`.
  std::string namespace_ = "istio-system";
  /// The Lease (upstream's election ID).
  std::string name = "istio-csr";
  /// Our `holderIdentity`; see `make_leader_identity`.
  std::string identity;
  /// How long a Lease is valid after its holder's last renewal, as seen by
  /// the others (whole seconds: `leaseDurationSeconds`).
  std::chrono::seconds lease_duration{15};
  /// The leader stops leading when it could not renew for this long.
  std::chrono::milliseconds renew_deadline{10'000};
  /// Time between attempts (acquire: with client-go's jitter of up to
  /// 1.2 × this; renew: exactly this).
  std::chrono::milliseconds retry_period{2'000};
  /// Settings of the leader supervisor (its name is "leader"; it escalates
  /// when it gives up).
  std::size_t max_restarts = 5;
  caf::timespan window = std::chrono::seconds(60);
  /// A client of its own (own connections and rate limiter), as
  /// controller-runtime gives leader election: Lease renewals then never
  /// queue behind the controllers' traffic (a root change rewrites one
  /// ConfigMap per namespace). When set, the elector talks through a façade
  /// on it that it spawns and links; else through the `kube` it is given.
  std::shared_ptr<kube::client> client;
  /// Where the "became leader" Event goes (upstream:
  /// `--certificate-namespace`); empty: no Event.
  std::string event_namespace;
};

/// client-go's rule: lease duration > renew deadline > 1.2 × retry period
/// > 0, and a non-empty identity, namespace and name.
caf::error validate(const leader_election_options& opts);

/// `<hostname>_<random UUID>`, as controller-runtime makes it: unique per
/// process, so that a restarted process never mistakes its predecessor's
/// Lease for its own.
std::string make_leader_identity();

/// Spawns the leader-election actor. It talks to the API server through
/// `kube` (the kube-client façade) and:
///
/// - every `retry_period` (with jitter) tries to acquire the Lease: creates
///   it if missing; takes it over when it has no holder, or when its
///   record did not change for `leaseDurationSeconds` as observed on our
///   own clock (clock skew between replicas does not matter);
///   `acquireTime` = now and `leaseTransitions` + 1 when the holder
///   changes. Every write is an update with the resourceVersion read
///   (a 409 means someone else won);
/// - on acquiring, records client-go's Event (reason `LeaderElection`,
///   "<identity> became leader", about the Lease) in `event_namespace`,
///   sets `leader_election_master_status{name="istio-csr"}` to 1 (0 again
///   when it stops leading), and starts the **leader supervisor** with
///   `leader_children` (fresh children on every acquisition) and links to it;
/// - while leading, renews every `retry_period` (`renewTime`, MicroTime);
/// - stops leading at once, killing the leader supervisor, when no renewal
///   succeeded within `renew_deadline` (a hanging request included), or
///   when it reads the Lease held by someone else: a leader that cannot
///   renew never keeps writing (the others wait `lease_duration`, which is
///   longer);
/// - on an exit message (shutdown): stops the leader supervisor in order,
///   waits for it, then releases the Lease (holder "", leaseDurationSeconds
///   1, as client-go's ReleaseOnCancel) so another replica takes over at
///   its next attempt;
/// - if the leader supervisor terminates on its own (it gave up), the actor
///   terminates with its reason (its own supervisor restarts it; a new
///   incarnation with the same identity renews the Lease it still holds).
///
/// `(leader_status_atom) -> leader_status`.
caf::actor spawn_leader_election(caf::actor_system& sys,
                                 leader_election_options opts,
                                 kube::client_actor kube,
                                 std::vector<child_spec> leader_children);

} // namespace istio_csr::actors::controllers
