#pragma once

// Atoms and message types of the pod-index actor. Light: no actor headers.

#include <string>

#include "caf/allowed_unsafe_message_type.hpp"
#include "caf/atom.hpp"

#include "actors/ambient/node_authorizer.hpp"

namespace istio_csr::actors::ambient {

/// What a signer asks the pod index: may `caller` impersonate `identity`?
struct impersonation_request {
  caller_info caller;
  std::string identity;
};

/// `(authorize_atom, impersonation_request) -> void`: answered once the pod
/// cache has synced (requests wait until then). Allowed: `void`. Denied:
/// `ambient_errc::denied` whose context is the reason (upstream's text, see
/// `node_authorizer`). Still unsynced after the wait limit:
/// `ambient_errc::not_synced`.
using authorize_atom = caf::atom_constant<caf::atom("amb_authz")>;

/// `(pod_event_atom, kube::informer_event)`: an event of the pod informer
/// (from the actor's own informer; tests send them directly).
using pod_event_atom = caf::atom_constant<caf::atom("amb_event")>;

/// `(pod_stats_atom) -> pod_index_stats`.
using pod_stats_atom = caf::atom_constant<caf::atom("amb_stats")>;

/// Internal: answer waiting requests that waited too long.
using pod_expire_atom = caf::atom_constant<caf::atom("amb_expire")>;

} // namespace istio_csr::actors::ambient

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(istio_csr::actors::ambient::impersonation_request)
