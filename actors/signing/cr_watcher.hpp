#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "caf/actor.hpp"
#include "caf/allowed_unsafe_message_type.hpp"
#include "caf/fwd.hpp"
#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include "actors/signing/certificate_requests.hpp"
#include "actors/signing/messages.hpp"
#include "kube/client/informer_cache.hpp"

namespace istio_csr::kube {
class client;
} // namespace istio_csr::kube

namespace istio_csr::actors::signing {

/// How the cr-watcher runs.
struct watcher_options {
  /// The namespace to watch and whether objects may be deleted.
  cr_settings cr;
  /// Objects with our label, created longer ago than this and not waited
  /// on here, are orphans: deleted by the sweep (unless `cr.preserve`).
  /// Replicas share the namespace, so this must exceed the longest wait of
  /// any replica: see `orphan_age_for`.
  std::chrono::milliseconds orphan_age{std::chrono::minutes{5}};
  /// How often the sweep runs (the first sweep runs once the informer has
  /// listed).
  std::chrono::milliseconds sweep_interval{std::chrono::minutes{2}};
  /// Each watch asks the server to end it after [min, 2 min) seconds.
  std::chrono::seconds min_watch_timeout{300};
};

/// The orphan bound for a signing timeout: 1.5 × the timeout. Every
/// replica deletes its own object once its wait ends (at the timeout at the
/// latest), so an older one is waited on by nobody (the half timeout is
/// the margin for clocks and the owner's own delete); what remains is an
/// object of a replica that died (SIGKILL, OOM) before deleting it. With no
/// timeout (0) one hour (a caller waiting longer than that loses its
/// object, fails with `INTERNAL` and retries).
std::chrono::milliseconds orphan_age_for(std::chrono::nanoseconds timeout);

/// How often the sweep runs for a signing timeout: a quarter of it, between
/// 1 s and 2 min, so that no orphan outlives 2 × the timeout.
std::chrono::milliseconds sweep_interval_for(std::chrono::nanoseconds timeout);

/// Counters of the cr-watcher, for tests and diagnostics.
struct watcher_stats {
  /// Waits registered now.
  std::size_t waits = 0;
  /// Objects in the informer cache.
  std::size_t cached = 0;
  bool synced = false;
  /// Sweeps run, and objects they deleted.
  uint64_t sweeps = 0;
  uint64_t swept = 0;
  /// Objects deleted because their waiter terminated.
  uint64_t reaped = 0;
  /// Answers sent to waiters (final object or deletion).
  uint64_t answered = 0;
  /// The informer's watches started and re-lists after 410 Gone.
  uint64_t watches = 0;
  uint64_t relists_after_gone = 0;
};

/// The cr-watcher: one informer (list + watch, resumed after drops,
/// re-listed after 410) on the CertificateRequests of `opts.cr.namespace_`
/// that carry `managed_by_label`, shared by every signer and the
/// cert-obtainer instead of a watch per request.
///
/// - `(cr_wait_atom, std::string name, caf::actor waiter) ->
///   finished_request`: answers once the object is final (at once if the
///   cache already has it so, which covers events that arrived before the
///   registration), or `signing_errc::cr_deleted`. The watcher monitors
///   `waiter`: when it terminates, the objects it still waits on are
///   deleted (unless preserve) and their waits answered
///   `signing_errc::waiter_down`.
/// - `(cr_unwait_atom, std::string name)`: withdraws a wait (answered
///   `signing_errc::wait_cancelled`).
/// - `(cr_sweep_atom)`: runs the orphan sweep now.
/// - `(stats_atom) -> watcher_stats`.
///
/// A message of another shape does not compile, e.g.
/// `self->request(watcher, infinite, cr_wait_atom::value, name)` (no
/// waiter) or a handler taking `nlohmann::json&` for the answer.
using cr_watcher_actor
  = caf::typed_actor<caf::replies_to<cr_wait_atom, std::string,
                                     caf::actor>::with<finished_request>,
                     caf::reacts_to<cr_unwait_atom, std::string>,
                     caf::reacts_to<cr_sweep_atom>,
                     caf::replies_to<stats_atom>::with<watcher_stats>>;

cr_watcher_actor spawn_cr_watcher(caf::actor_system& sys, watcher_options opts,
                                  std::shared_ptr<kube::client> client);

} // namespace istio_csr::actors::signing

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(istio_csr::actors::signing::watcher_stats)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(istio_csr::actors::signing::finished_request)
