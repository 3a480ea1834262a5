#pragma once

#include <string>

#include <grpcpp/support/status.h>

#include "caf/error.hpp"

namespace istio_csr::grpc_bridge {

/// The gRPC status a failed signing request is answered with: upstream
/// istio-csr's codes and texts for its cases (docs/upstream.md, "Error
/// mapping"), ours for the rest (docs/compatibility.md):
///
/// | `signing_api::sign_errc` | code | message |
/// |---|---|---|
/// | unauthenticated | UNAUTHENTICATED | request authenticate failure |
/// | signing_failed | INTERNAL | failed to sign certificate request |
/// | verification_failed | INTERNAL | failed to parse and verify signed
/// certificate from issuer | | timed_out | UNAVAILABLE | timed out waiting for
/// the certificate request to be signed | | signer_unavailable | UNAVAILABLE |
/// certificate signer unavailable | | pod_cache_not_synced | UNAVAILABLE | pod
/// cache not synced | | pod_cache_unavailable | UNAVAILABLE | pod cache
/// unavailable | | issuer_overloaded | UNAVAILABLE | too many certificate
/// requests waiting for the issuer | | cancelled | CANCELLED | call cancelled |
/// | anything else | INTERNAL | internal error |
///
/// The error's detail is for logs: it never reaches the caller.
grpc::Status status_of(const caf::error& err);

} // namespace istio_csr::grpc_bridge
