#include "grpc_bridge/status.hpp"

#include "signing_api/sign_errc.hpp"

namespace istio_csr::grpc_bridge {

grpc::Status status_of(const caf::error& err) {
  using grpc::StatusCode;
  using signing_api::sign_errc;
  auto code = signing_api::sign_errc_of(err);
  if (!code)
    return {StatusCode::INTERNAL, "internal error"};
  switch (*code) {
    case sign_errc::unauthenticated:
      return {StatusCode::UNAUTHENTICATED, "request authenticate failure"};
    case sign_errc::signing_failed:
      return {StatusCode::INTERNAL, "failed to sign certificate request"};
    case sign_errc::verification_failed:
      return {StatusCode::INTERNAL,
              "failed to parse and verify signed certificate from issuer"};
    case sign_errc::timed_out:
      return {StatusCode::UNAVAILABLE,
              "timed out waiting for the certificate request to be signed"};
    case sign_errc::signer_unavailable:
      return {StatusCode::UNAVAILABLE, "certificate signer unavailable"};
    case sign_errc::pod_cache_not_synced:
      return {StatusCode::UNAVAILABLE, "pod cache not synced"};
    case sign_errc::pod_cache_unavailable:
      return {StatusCode::UNAVAILABLE, "pod cache unavailable"};
    case sign_errc::issuer_overloaded:
      return {StatusCode::UNAVAILABLE,
              "too many certificate requests waiting for the issuer"};
    case sign_errc::cancelled: return {StatusCode::CANCELLED, "call cancelled"};
  }
  return {StatusCode::INTERNAL, "internal error"};
}

} // namespace istio_csr::grpc_bridge
