#pragma once

#include <memory>

#include "grpc_bridge/call.hpp"

namespace istio_csr::actors::signing {

/// Holds a gRPC call on its way through the actors: messages carry a
/// `call_ref`, never the call itself. When the last `call_ref` goes (the
/// call was finished, or an actor holding it in its mailbox or state died),
/// an unfinished call is answered `UNAVAILABLE`, which istio-agent and
/// ztunnel retry. So a call is never left hanging until its client gives up.
class call_guard {
 public:
  explicit call_guard(std::shared_ptr<grpc_bridge::call> c) noexcept
    : call_(std::move(c)) {
    // nop
  }

  ~call_guard();

  call_guard(const call_guard&) = delete;
  call_guard& operator=(const call_guard&) = delete;

  grpc_bridge::call& operator*() const noexcept {
    return *call_;
  }

  grpc_bridge::call* operator->() const noexcept {
    return call_.get();
  }

  const std::shared_ptr<grpc_bridge::call>& get() const noexcept {
    return call_;
  }

 private:
  std::shared_ptr<grpc_bridge::call> call_;
};

using call_ref = std::shared_ptr<call_guard>;

inline call_ref make_call_ref(std::shared_ptr<grpc_bridge::call> c) {
  return std::make_shared<call_guard>(std::move(c));
}

} // namespace istio_csr::actors::signing
