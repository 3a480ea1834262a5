#pragma once

#include <mutex>
#include <optional>
#include <vector>

#include "caf/actor.hpp"
#include "caf/actor_addr.hpp"

#include "kube/api/condition.hpp"

namespace istio_csr::actors::signing {

/// The issuerRef that new CertificateRequests use (docs/upstream.md §3.5,
/// §3.6). Thread-safe. Today it holds the static issuer from the command line;
/// the runtime-configuration ConfigMap watcher (a later issue) only has to call
/// `set` with what the ConfigMap says (or the static issuer again when the
/// ConfigMap is deleted).
///
/// Unlike upstream, a signer reads the issuer once, when it creates its
/// CertificateRequest, and holds no lock during the wait: a change never
/// waits for slow issuers (docs/upstream.md §11).
class active_issuer {
 public:
  explicit active_issuer(std::optional<kube::issuer_ref> initial);

  /// The active issuer, nullopt when none is configured.
  std::optional<kube::issuer_ref> get() const;

  /// Replaces the active issuer; subscribers hear of a change.
  void set(std::optional<kube::issuer_ref> issuer);

  /// `subscriber` receives `(issuer_changed_atom, issuer_update)` now and
  /// after every change. Only a weak reference is kept: terminated
  /// subscribers are dropped.
  void subscribe(const caf::actor& subscriber);

  void unsubscribe(const caf::actor_addr& subscriber);

 private:
  mutable std::mutex mtx_;
  std::optional<kube::issuer_ref> issuer_;
  std::vector<caf::actor_addr> subscribers_;
};

} // namespace istio_csr::actors::signing
