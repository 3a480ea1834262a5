#include "actors/signing/call_guard.hpp"

namespace istio_csr::actors::signing {

call_guard::~call_guard() {
  if (call_ && !call_->finished())
    call_->finish_error(grpc::StatusCode::UNAVAILABLE,
                        "certificate signer unavailable");
}

} // namespace istio_csr::actors::signing
