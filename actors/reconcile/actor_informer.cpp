#include "actors/reconcile/actor_informer.hpp"

#include "caf/actor_cast.hpp"
#include "caf/local_actor.hpp"
#include "caf/send.hpp"

#include "kube/client/messages.hpp"

namespace istio_csr::actors::reconcile {

actor_informer& actor_informer::operator=(actor_informer&& other) noexcept {
  if (this != &other) {
    stop();
    inf_ = std::move(other.inf_);
    stopped_ = other.stopped_;
    synced_ = other.synced_;
  }
  return *this;
}

actor_informer::~actor_informer() {
  stop();
}

kube::informer_handler actor_informer::forward_to(caf::local_actor* self,
                                                  caf::atom_value tag) {
  // Only the address: the informer never keeps the actor alive.
  return [addr = self->address(), tag](const kube::informer_event& ev) {
    if (auto hdl = caf::actor_cast<caf::actor>(addr))
      caf::anon_send(hdl, tag, ev);
  };
}

void actor_informer::start(caf::local_actor* self,
                           std::shared_ptr<kube::client> client,
                           kube::informer_options opts, caf::atom_value tag) {
  stop();
  inf_.reset();
  stopped_ = false;
  synced_ = false;
  if (!client)
    return;
  inf_ = kube::informer::make(std::move(client), std::move(opts),
                              forward_to(self, tag));
  // Whoever holds this object, the informer ends with the actor.
  self->attach_functor([weak = std::weak_ptr<kube::informer>{inf_}] {
    if (auto inf = weak.lock())
      inf->stop();
  });
  inf_->start();
}

void actor_informer::stop() {
  if (inf_ && !stopped_)
    inf_->stop();
  stopped_ = true;
}

bool actor_informer::accept(const kube::informer_event& ev) {
  if (stopped_)
    return false;
  if (ev.type == kube::informer_event_type::synced)
    synced_ = true;
  return true;
}

} // namespace istio_csr::actors::reconcile
