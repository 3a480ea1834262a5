#include "actors/signing/root_store.hpp"

#include <algorithm>
#include <chrono>

#include "caf/send.hpp"

#include "actors/signing/messages.hpp"
#include "metrics/citadel.hpp"

namespace istio_csr::actors::signing {

namespace {

/// istiod's `citadel_server_root_cert_expiry_timestamp`: the earliest
/// notAfter of the roots (the first one to break the mesh).
void export_expiry(const policy::root_bundle& roots) {
  if (roots.certs.empty())
    return;
  auto earliest = roots.certs.front().not_after();
  for (const auto& cert : roots.certs)
    earliest = std::min(earliest, cert.not_after());
  metrics::citadel().root_cert_expiry.set(
    static_cast<double>(std::chrono::duration_cast<std::chrono::seconds>(
                          earliest.time_since_epoch())
                          .count()));
}

} // namespace

root_store::root_store(policy::root_bundle initial)
  : current_(std::make_shared<const policy::root_bundle>(std::move(initial))) {
  export_expiry(*current_);
}

root_store::bundle_ptr root_store::current() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return current_;
}

bool root_store::set(policy::root_bundle bundle) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (current_ && current_->pem == bundle.pem)
    return false;
  current_ = std::make_shared<const policy::root_bundle>(std::move(bundle));
  export_expiry(*current_);
  notify(current_);
  return true;
}

void root_store::with_current(
  const std::function<void(const bundle_ptr&)>& fn) const {
  std::lock_guard<std::mutex> guard{mtx_};
  fn(current_);
}

void root_store::add_listener(listener fn) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (current_)
    fn(current_);
  listeners_.push_back(std::move(fn));
}

void root_store::subscribe(const caf::actor& subscriber) {
  if (!subscriber)
    return;
  std::lock_guard<std::mutex> guard{mtx_};
  // Subscribers that are gone (restarted actors, namespaces that left) go
  // here too, not only at the next root change.
  std::erase_if(subscribers_, [](const caf::actor_addr& addr) {
    return !caf::actor_cast<caf::actor>(addr);
  });
  subscribers_.push_back(subscriber.address());
  if (current_)
    caf::anon_send(subscriber, roots_changed_atom::value, current_);
}

void root_store::unsubscribe(const caf::actor_addr& subscriber) {
  std::lock_guard<std::mutex> guard{mtx_};
  subscribers_.erase(
    std::remove(subscribers_.begin(), subscribers_.end(), subscriber),
    subscribers_.end());
}

void root_store::notify(const bundle_ptr& roots) {
  for (auto& fn : listeners_)
    fn(roots);
  auto& subs = subscribers_;
  subs.erase(std::remove_if(subs.begin(), subs.end(),
                            [&](const caf::actor_addr& addr) {
                              auto hdl = caf::actor_cast<caf::actor>(addr);
                              if (!hdl)
                                return true;
                              caf::anon_send(hdl, roots_changed_atom::value,
                                             roots);
                              return false;
                            }),
             subs.end());
}

} // namespace istio_csr::actors::signing
