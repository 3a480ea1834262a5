#pragma once

#include <atomic>
#include <limits>
#include <memory>

#include "proto/ca.grpc.pb.h"

#include "grpc_bridge/connection_registry.hpp"
#include "signing_api/sign_request.hpp"

namespace istio_csr::grpc_bridge {

/// The one gRPC service: every CreateCertificate becomes a
/// `signing_api::sign_request` handed to the `sign_handler`; its reply
/// answers the call. Internal to `server` (and its tests).
class certificate_service final
  : public istio::v1::auth::IstioCertificateService::CallbackService {
 public:
  /// Beyond `max_active_calls` calls in progress, a call is answered
  /// RESOURCE_EXHAUSTED without reaching `handler`.
  certificate_service(std::shared_ptr<signing_api::sign_handler> handler,
                      std::shared_ptr<const connection_registry> registry,
                      std::size_t max_active_calls
                      = std::numeric_limits<std::size_t>::max());

  grpc::ServerUnaryReactor* CreateCertificate(
    grpc::CallbackServerContext* ctx,
    const istio::v1::auth::IstioCertificateRequest* request,
    istio::v1::auth::IstioCertificateResponse* response) override;

  /// Calls started and not yet done (as gRPC sees them).
  std::size_t active_calls() const noexcept {
    return *active_;
  }

 private:
  std::shared_ptr<signing_api::sign_handler> handler_;
  std::shared_ptr<const connection_registry> registry_;
  std::shared_ptr<std::atomic<std::size_t>> active_;
  std::size_t max_active_calls_;
};

} // namespace istio_csr::grpc_bridge
