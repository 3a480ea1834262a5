#pragma once

// Atoms and message types of the signing-path actors. Light: no actor
// headers, no grpc++, no Beast.

#include <memory>
#include <optional>

#include "caf/allowed_unsafe_message_type.hpp"
#include "caf/atom.hpp"

#include "actors/signing/policy/chain.hpp"
#include "actors/signing/request_guard.hpp"
#include "kube/api/condition.hpp"
#include "kube/client/messages.hpp"

namespace istio_csr::actors::signing {

/// The current mesh roots, shared and immutable.
using roots_ptr = std::shared_ptr<const policy::root_bundle>;

/// A change of the active issuer (nullopt: none is configured).
struct issuer_update {
  std::optional<kube::issuer_ref> issuer;
};

// -- signing a call ----------------------------------------------------------

/// `(sign_atom, request_ref) -> void`: to the dispatcher (asynchronous, from
/// the transport) and from the dispatcher to a signer (a request, answered
/// once the signer has finished the signing request).
using sign_atom = caf::atom_constant<caf::atom("sg_sign")>;

/// Internal to a signer: the call `id` was cancelled by its client.
using sign_cancel_atom = caf::atom_constant<caf::atom("sg_cancel")>;

/// Internal to a signer: the deadline of call `id` passed.
using sign_timeout_atom = caf::atom_constant<caf::atom("sg_tmo")>;

/// `(stats_atom) -> signer_stats` (signers), `-> obtainer_status`
/// (cert-obtainer), `-> watcher_stats` (cr-watcher): for tests and
/// diagnostics.
using stats_atom = caf::atom_constant<caf::atom("sg_stats")>;

// -- the CertificateRequest watch ---------------------------------------------

/// `(cr_wait_atom, std::string name, caf::actor waiter) -> nlohmann::json`
/// to the cr-watcher: answers the CertificateRequest `name` once it is
/// final (Denied, Failed or carrying a certificate), or
/// `signing_errc::cr_deleted` when it is deleted first, or
/// `signing_errc::wait_cancelled` after a `cr_unwait_atom`. The watcher
/// monitors `waiter` and deletes the CertificateRequests it still waits on
/// when it terminates.
using cr_wait_atom = caf::atom_constant<caf::atom("crw_wait")>;

/// `(cr_unwait_atom, std::string name)`: the waiter gives up (it deletes
/// the object itself).
using cr_unwait_atom = caf::atom_constant<caf::atom("crw_unwait")>;

/// Internal to the cr-watcher: an informer event.
using cr_event_atom = caf::atom_constant<caf::atom("crw_event")>;

/// `(cr_sweep_atom)`: the cr-watcher deletes orphaned CertificateRequests
/// now (also runs periodically).
using cr_sweep_atom = caf::atom_constant<caf::atom("crw_sweep")>;

// -- roots and issuer ---------------------------------------------------------

/// `(roots_subscribe_atom, caf::actor)` to root-ca: the subscriber gets
/// `(roots_changed_atom, roots_ptr)` now (if roots are known) and on every
/// change.
using roots_subscribe_atom = caf::atom_constant<caf::atom("roots_sub")>;

/// `(roots_changed_atom, roots_ptr)`: the mesh roots changed.
using roots_changed_atom = caf::atom_constant<caf::atom("roots_chg")>;

/// `(roots_get_atom) -> roots_ptr` (root-ca; null when none yet).
using roots_get_atom = caf::atom_constant<caf::atom("roots_get")>;

/// Internal to root-ca: the root CA file was (re)read.
using roots_file_atom = caf::atom_constant<caf::atom("roots_file")>;

/// `(issuer_changed_atom, issuer_update)`: sent by `active_issuer` to its
/// subscribers.
using issuer_changed_atom = caf::atom_constant<caf::atom("issuer_chg")>;

// -- the serving certificate --------------------------------------------------

/// Internal to the cert-obtainer: start a fetch attempt (`uint64_t` token).
using obtain_atom = caf::atom_constant<caf::atom("srv_obtain")>;

/// Internal to the cert-obtainer: attempt `uint64_t` timed out.
using obtain_timeout_atom = caf::atom_constant<caf::atom("srv_tmo")>;

/// Internal to the cert-obtainer: log that no issuer is configured yet.
using obtain_waiting_atom = caf::atom_constant<caf::atom("srv_wait")>;

} // namespace istio_csr::actors::signing

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(istio_csr::actors::signing::request_ref)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(istio_csr::actors::signing::roots_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(istio_csr::actors::signing::issuer_update)
