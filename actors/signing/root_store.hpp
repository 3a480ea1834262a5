#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "caf/actor.hpp"
#include "caf/actor_addr.hpp"

#include "actors/signing/policy/chain.hpp"

namespace istio_csr::actors::signing {

/// The current mesh roots (docs/upstream.md §4, §4.1), shared by everything
/// that uses them: signers read them for every response chain, the gRPC server
/// verifies client certificates with them, the ConfigMap distributor (a
/// later issue) writes them. Thread-safe.
///
/// A change reaches every user at once, without a restart: readers see the
/// new bundle on their next `current()`, listeners (e.g.
/// `grpc_bridge::server::set_roots`) and subscribed actors are told.
class root_store {
 public:
  using bundle_ptr = std::shared_ptr<const policy::root_bundle>;

  /// Runs on the thread that changed the roots, under the store's lock (so
  /// listeners see changes in order); must not block.
  using listener = std::function<void(const bundle_ptr&)>;

  root_store() = default;

  explicit root_store(policy::root_bundle initial);

  /// The current roots; null while none are known (no root file and no
  /// serving certificate fetched yet).
  bundle_ptr current() const;

  /// Replaces the roots when the PEM differs from the current one (byte
  /// comparison). Returns whether they changed; listeners and subscribers
  /// hear only of changes.
  bool set(policy::root_bundle bundle);

  /// Calls `fn` with the current roots while holding the lock that orders
  /// changes: nothing changes the roots (or calls listeners) meanwhile.
  /// For handing roots to a consumer that must not receive an older bundle
  /// after a newer one (`grpc_bridge::server::set_credentials`).
  void with_current(const std::function<void(const bundle_ptr&)>& fn) const;

  /// Adds a listener; it is called at once with the current roots when
  /// there are any.
  void add_listener(listener fn);

  /// `subscriber` receives `(roots_changed_atom, roots_ptr)` now (if roots
  /// are known) and on every change. Weak: terminated subscribers are
  /// dropped.
  void subscribe(const caf::actor& subscriber);

  void unsubscribe(const caf::actor_addr& subscriber);

 private:
  void notify(const bundle_ptr& roots);

  // Orders changes and notifications; `current_` is also read under it.
  mutable std::mutex mtx_;
  bundle_ptr current_;
  std::vector<listener> listeners_;
  std::vector<caf::actor_addr> subscribers_;
};

} // namespace istio_csr::actors::signing
