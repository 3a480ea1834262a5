#pragma once

#include <memory>

#include "caf/atom.hpp"
#include "caf/fwd.hpp"

#include "kube/client/informer.hpp"

namespace istio_csr::actors::reconcile {

/// A `kube::informer` run on behalf of one actor: the "informer in an
/// actor" that controllers and watchers share.
///
/// `start` creates and starts the informer; every notification arrives in
/// the actor's mailbox as `(tag, kube::informer_event)`, in the informer's
/// order, so the actor handles it on its own thread like any message (and
/// tests may send such messages themselves). The informer stops when this
/// object is destroyed or `stop` is called, and at the latest when the
/// actor terminates. Hold it as a member of the actor's state.
///
/// In the handler of `tag`, call `accept` first: it drops notifications
/// sent before `stop` and records `synced`, so that `synced()` follows the
/// mailbox (every event of the first list has been handled once it is
/// true), not the informer's thread.
///
/// ```
/// st.pods.start(self, client, std::move(opts), pod_event_atom::value);
/// ...
/// [self](pod_event_atom, const kube::informer_event& ev) {
///   if (!self->state.pods.accept(ev))
///     return;
///   ...
/// }
/// ```
class actor_informer {
 public:
  actor_informer() = default;

  actor_informer(actor_informer&&) noexcept = default;

  actor_informer& operator=(actor_informer&& other) noexcept;

  actor_informer(const actor_informer&) = delete;

  actor_informer& operator=(const actor_informer&) = delete;

  /// Stops the informer.
  ~actor_informer();

  /// Creates and starts an informer on `client` whose notifications go to
  /// `self` as `(tag, kube::informer_event)`. Call once (a running informer
  /// is stopped first). Without a client nothing starts: the actor gets
  /// only the notifications others send it (tests).
  void start(caf::local_actor* self, std::shared_ptr<kube::client> client,
             kube::informer_options opts, caf::atom_value tag);

  /// The handler `start` gives the informer: sends each notification to
  /// `self` as `(tag, event)` (from any thread; nothing once `self` is
  /// gone). It holds only the actor's address.
  static kube::informer_handler forward_to(caf::local_actor* self,
                                           caf::atom_value tag);

  /// Stops the informer: no further notification is accepted (some may
  /// still be in the mailbox; `accept` drops them).
  void stop();

  /// Call first on every `(tag, event)` message. Returns false when the
  /// event is to be ignored (after `stop`). Records the `synced`
  /// notification.
  bool accept(const kube::informer_event& ev);

  /// Whether the actor has accepted the `synced` notification: the
  /// informer's first complete list, and every event of it, went through
  /// the mailbox.
  bool synced() const noexcept {
    return synced_;
  }

  /// Whether the informer runs (started, not stopped).
  bool running() const noexcept {
    return inf_ != nullptr && !stopped_;
  }

  /// The informer, for its cache (readable from any thread, also by other
  /// actors); nullptr before `start`.
  std::shared_ptr<const kube::informer> cache() const noexcept {
    return inf_;
  }

  /// The informer's cache and statistics. Requires `start`.
  const kube::informer* operator->() const noexcept {
    return inf_.get();
  }

 private:
  std::shared_ptr<kube::informer> inf_;
  bool stopped_ = false;
  bool synced_ = false;
};

} // namespace istio_csr::actors::reconcile
