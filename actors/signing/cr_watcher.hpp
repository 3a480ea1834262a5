#pragma once

#include <chrono>
#include <cstdint>
#include <memory>

#include "caf/actor.hpp"
#include "caf/allowed_unsafe_message_type.hpp"
#include "caf/fwd.hpp"

#include "actors/signing/certificate_requests.hpp"

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

/// The orphan bound for a signing timeout: `max(2 × timeout, 5 min)`; with
/// no timeout (0) one hour (a caller waiting longer than that loses its
/// object, fails with `INTERNAL` and retries).
std::chrono::milliseconds orphan_age_for(std::chrono::nanoseconds timeout);

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
  /// This incarnation (not the stable handle), e.g. to kill it in tests.
  caf::actor self;
};

/// Spawns the cr-watcher: one informer (list + watch, resumed after drops,
/// re-listed after 410) on the CertificateRequests of `opts.cr.namespace_`
/// that carry `managed_by_label`, shared by every signer and the
/// cert-obtainer instead of a watch per request.
///
/// Messages:
/// - `(cr_wait_atom, std::string name, caf::actor waiter) -> json`: answers
///   the object once it is final (at once if the cache already has it so,
///   which covers events that arrived before the registration), or
///   `signing_errc::cr_deleted`. The watcher monitors `waiter`: when it
///   terminates, the objects it still waits on are deleted (unless
///   preserve) and their waits answered `signing_errc::waiter_down`.
/// - `(cr_unwait_atom, std::string name)`: withdraws a wait (answered
///   `signing_errc::wait_cancelled`).
/// - `(cr_sweep_atom)`: runs the orphan sweep now.
/// - `(stats_atom) -> watcher_stats`.
caf::actor spawn_cr_watcher(caf::actor_system& sys, watcher_options opts,
                            std::shared_ptr<kube::client> client);

} // namespace istio_csr::actors::signing

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(istio_csr::actors::signing::watcher_stats)
