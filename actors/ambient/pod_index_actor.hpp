#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "caf/actor.hpp"
#include "caf/allowed_unsafe_message_type.hpp"
#include "caf/fwd.hpp"
#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include "actors/ambient/messages.hpp"
#include "actors/ambient/trusted_accounts.hpp"
#include "kube/client/messages.hpp"

namespace istio_csr::kube {
class client;
} // namespace istio_csr::kube

namespace istio_csr::actors::ambient {

/// How the pod index runs (from `--ca-trusted-node-accounts` and
/// `--trust-domain`).
struct pod_index_options {
  trusted_accounts trusted;
  /// `--trust-domain`: impersonated identities must be in it.
  std::string trust_domain = "cluster.local";
  /// Requests that arrive before the first list completes wait for it, at
  /// most this long (then `ambient_errc::not_synced`). Readiness keeps
  /// traffic away until the sync, so only a restarted pod index makes
  /// requests wait.
  std::chrono::milliseconds sync_wait{std::chrono::seconds{30}};
  /// Each watch asks the server to end it after [min, 2 min) seconds.
  std::chrono::seconds min_watch_timeout{300};
  /// Page size of the pod lists.
  int64_t page_size = 500;
};

/// Shared with the readiness check: whether the current incarnation's pod
/// cache has synced.
struct pod_index_status {
  std::atomic<bool> synced{false};
};

/// Counters of one pod-index incarnation, for tests and diagnostics.
struct pod_index_stats {
  bool synced = false;
  /// Pods indexed, (service account, node) pairs counted, interned names.
  std::size_t pods = 0;
  std::size_t pairs = 0;
  std::size_t names = 0;
  /// Informer events applied.
  uint64_t events = 0;
  /// Requests answered: allowed, denied, expired unsynced.
  uint64_t allowed = 0;
  uint64_t denied = 0;
  uint64_t expired = 0;
  /// Requests waiting for the first sync now.
  std::size_t waiting = 0;
};

/// The pod-index actor (child `pod-index` of the signing tree; it exists
/// only when trusted node accounts are configured). It runs one informer on
/// every pod of the cluster (`status.phase!=Failed`, as istiod; each pod
/// reduced to a compact record, `make_pod_record`), keeps a `pod_index`,
/// and answers node-authorization requests from the signers with a
/// `node_authorizer`:
/// - `(authorize_atom, impersonation_request) -> void` (see messages.hpp);
/// - `(pod_event_atom, kube::informer_event)`: an event of its informer;
///   with `client == nullptr` no informer runs and tests send them;
/// - `(pod_stats_atom) -> pod_index_stats`.
/// Lookups are answered in the actor (request/response), not through a
/// shared structure: docs/benchmarks.md has the measurements behind it.
/// `status` (may be null) is set on sync and cleared when the incarnation
/// starts and ends.
using pod_index_actor = caf::typed_actor<
  caf::replies_to<authorize_atom, impersonation_request>::with<void>,
  caf::reacts_to<pod_event_atom, kube::informer_event>,
  caf::replies_to<pod_stats_atom>::with<pod_index_stats>>;

pod_index_actor spawn_pod_index(caf::actor_system& sys, pod_index_options opts,
                                std::shared_ptr<kube::client> client,
                                std::shared_ptr<pod_index_status> status);

} // namespace istio_csr::actors::ambient

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(istio_csr::actors::ambient::pod_index_stats)
