#pragma once

#include <memory>
#include <vector>

#include "caf/fwd.hpp"
#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include "actors/signing/csr_signer.hpp"
#include "actors/signing/messages.hpp"
#include "signing_api/sign_request.hpp"

namespace istio_csr::actors::signing {

/// The csr-dispatcher: `(sign_atom, request_ref)` picks a signer round robin
/// (stable handles) and sends it the request as a request. When the answer
/// says the signer died with the request (`child_restarted`,
/// `child_stopped`, `request_receiver_down`) and the request is neither
/// finished nor cancelled, it gives it to the next signer, up to three
/// signers in all; after that the request is answered
/// `sign_errc::signer_unavailable` (retried by istio-agent).
using dispatcher_actor
  = caf::typed_actor<caf::reacts_to<sign_atom, request_ref>>;

dispatcher_actor spawn_dispatcher(caf::actor_system& sys,
                                  std::vector<signer_actor> signers);

/// The transport's `sign_handler` of the agent: each request becomes one
/// asynchronous message to the dispatcher (never blocks). Requests that
/// arrive before `bind` or after the dispatcher is gone are answered
/// `sign_errc::signer_unavailable`.
class dispatch_handler final : public signing_api::sign_handler {
 public:
  dispatch_handler() = default;

  explicit dispatch_handler(dispatcher_actor dispatcher)
    : dispatcher_(std::move(dispatcher)) {
    // nop
  }

  /// Sets the dispatcher. Not thread-safe: call it before the server
  /// starts (which orders it before every `handle`).
  void bind(dispatcher_actor dispatcher) {
    dispatcher_ = std::move(dispatcher);
  }

  void handle(signing_api::sign_request request) override;

 private:
  dispatcher_actor dispatcher_;
};

} // namespace istio_csr::actors::signing
