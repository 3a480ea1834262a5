#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "caf/actor.hpp"
#include "caf/allowed_unsafe_message_type.hpp"
#include "caf/atom.hpp"
#include "caf/fwd.hpp"

#include "kube/client/client_actor.hpp"

#include "actors/controllers/istiod_cert_spec.hpp"
#include "actors/supervisor/child_spec.hpp"
#include "kube/api/condition.hpp"

namespace istio_csr::kube {
class client;
} // namespace istio_csr::kube

namespace istio_csr::actors::signing {
class active_issuer;
} // namespace istio_csr::actors::signing

namespace istio_csr::actors::controllers {

/// The supervisor child name of the dynamic istiod Certificate controller.
inline constexpr const char* istiod_cert_name = "istiod-cert";

/// How the istiod Certificate controller works.
struct istiod_cert_options {
  istiod_cert_settings cert;
  /// Backoff after failed API calls (doubling, capped).
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{std::chrono::seconds{30}};
  /// Deadline of one API call (a hung call fails and is retried instead of
  /// holding the controller for the rest of the term).
  std::chrono::milliseconds request_timeout{std::chrono::seconds{60}};
  /// Passed to the informer (tests shorten it).
  std::chrono::seconds min_watch_timeout{300};
};

/// What the istiod Certificate controller talks to.
struct istiod_cert_deps {
  /// For the informer on the Certificate.
  std::shared_ptr<kube::client> client;
  /// The kube client façade (`kube::spawn_client_actor`); when invalid, the
  /// controller spawns and links its own.
  kube::client_actor kube;
  /// The issuer to follow (subscribed to for changes).
  std::shared_ptr<signing::active_issuer> issuer;
};

/// What the controller has done, for tests and diagnostics.
struct istiod_cert_status {
  /// The informer's first list has completed.
  bool synced = false;
  /// The issuer the controller currently follows.
  std::optional<kube::issuer_ref> issuer;
  /// Reconciles run (with an issuer and a synced cache), creates, spec
  /// updates, 409 conflicts retried on fresh state, failed API calls, and
  /// reconciles skipped because no issuer is configured.
  uint64_t reconciles = 0;
  uint64_t creates = 0;
  uint64_t updates = 0;
  uint64_t conflicts = 0;
  uint64_t errors = 0;
  uint64_t skipped = 0;
  /// Whether a reconcile is in flight or scheduled for a retry.
  bool busy = false;
  std::string last_error;
};

/// `(istiod_cert_status_atom) -> istiod_cert_status`.
using istiod_cert_status_atom = caf::atom_constant<caf::atom("ic_status")>;

/// Internal: an informer event.
using istiod_cert_event_atom = caf::atom_constant<caf::atom("ic_event")>;

/// Spawns the dynamic istiod Certificate controller (docs/upstream.md §6). Run
/// it on the leader only. It keeps the Certificate `cert.namespace_/cert.name`
/// as `istiod_cert_spec` describes with the active issuer:
///
/// - reconciles on every event of that Certificate (an informer with field
///   selector `metadata.name`) and on every change of the active issuer,
///   including the revert to the startup issuer when the runtime ConfigMap
///   is deleted (upstream misses that one);
/// - skips while no issuer is configured;
/// - creates a missing Certificate with the additional annotations;
///   otherwise replaces the whole spec when it differs from the desired
///   one (metadata and annotations untouched);
/// - a 409 (stale update, or a create racing another writer) re-reads the
///   object and tries again on that fresh state; other failures retry after
///   an exponential backoff. One API call at a time; events during a call
///   make it run again afterwards.
caf::actor spawn_istiod_cert(caf::actor_system& sys, istiod_cert_options opts,
                             istiod_cert_deps deps);

/// The `istiod-cert` child spec (permanent), for the leader-only
/// supervisor, talking through `kube` (a kube client façade; when invalid,
/// each incarnation spawns its own).
child_spec istiod_cert_child(istiod_cert_options opts,
                             std::shared_ptr<kube::client> client,
                             std::shared_ptr<signing::active_issuer> issuer,
                             kube::client_actor kube);

/// A leader-only child factory (`controller_setup::leader_only`): called
/// with the leader-election child's context, it builds the `istiod-cert`
/// spec on the root supervisor's `kube-client` stable handle.
std::function<child_spec(child_context&)>
istiod_cert_factory(istiod_cert_options opts,
                    std::shared_ptr<kube::client> client,
                    std::shared_ptr<signing::active_issuer> issuer);

} // namespace istio_csr::actors::controllers

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(
  istio_csr::actors::controllers::istiod_cert_status)
