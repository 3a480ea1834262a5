#include "actors/signing/active_issuer.hpp"

#include <algorithm>

#include "caf/send.hpp"

#include "actors/signing/messages.hpp"

namespace istio_csr::actors::signing {

active_issuer::active_issuer(std::optional<kube::issuer_ref> initial)
  : issuer_(std::move(initial)) {
  // nop
}

std::optional<kube::issuer_ref> active_issuer::get() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return issuer_;
}

void active_issuer::set(std::optional<kube::issuer_ref> issuer) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (issuer == issuer_)
    return;
  issuer_ = std::move(issuer);
  // Sending under the lock keeps notifications in the order of changes.
  auto& subs = subscribers_;
  subs.erase(std::remove_if(subs.begin(), subs.end(),
                            [&](const caf::actor_addr& addr) {
                              auto hdl = caf::actor_cast<caf::actor>(addr);
                              if (!hdl)
                                return true;
                              caf::anon_send(hdl, issuer_changed_atom::value,
                                             issuer_update{issuer_});
                              return false;
                            }),
             subs.end());
}

void active_issuer::subscribe(const caf::actor& subscriber) {
  if (!subscriber)
    return;
  std::lock_guard<std::mutex> guard{mtx_};
  subscribers_.push_back(subscriber.address());
  caf::anon_send(subscriber, issuer_changed_atom::value,
                 issuer_update{issuer_});
}

void active_issuer::unsubscribe(const caf::actor_addr& subscriber) {
  std::lock_guard<std::mutex> guard{mtx_};
  subscribers_.erase(
    std::remove(subscribers_.begin(), subscribers_.end(), subscriber),
    subscribers_.end());
}

} // namespace istio_csr::actors::signing
