#pragma once

#include <memory>
#include <vector>

#include "caf/actor.hpp"
#include "caf/fwd.hpp"

#include "grpc_bridge/call.hpp"

namespace istio_csr::actors::signing {

/// Spawns the csr-dispatcher: `(sign_atom, call_ref)` picks a signer round
/// robin (stable handles) and sends it the call as a request. When the
/// answer says the signer died with the call (`child_restarted`,
/// `child_stopped`, `request_receiver_down`) and the call is neither
/// finished nor cancelled, it tries once more on the next signer; after
/// that the call is answered `UNAVAILABLE` (retried by istio-agent).
caf::actor spawn_dispatcher(caf::actor_system& sys,
                            std::vector<caf::actor> signers);

/// The gRPC bridge's `call_handler` of the agent: each call becomes one
/// asynchronous message to the dispatcher (never blocks). Calls that
/// arrive before `bind` or after the dispatcher is gone are answered
/// `UNAVAILABLE`.
class dispatch_handler final : public grpc_bridge::call_handler {
 public:
  dispatch_handler() = default;

  explicit dispatch_handler(caf::actor dispatcher)
    : dispatcher_(std::move(dispatcher)) {
    // nop
  }

  /// Sets the dispatcher. Not thread-safe: call it before the server
  /// starts (which orders it before every `handle`).
  void bind(caf::actor dispatcher) {
    dispatcher_ = std::move(dispatcher);
  }

  void handle(std::shared_ptr<grpc_bridge::call> c) override;

 private:
  caf::actor dispatcher_;
};

} // namespace istio_csr::actors::signing
