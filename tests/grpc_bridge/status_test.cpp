#define CAF_SUITE grpc_bridge.status

#include "caf/test/unit_test.hpp"

#include "caf/sec.hpp"

#include "grpc_bridge/status.hpp"
#include "signing_api/sign_errc.hpp"

using namespace istio_csr;
using signing_api::sign_errc;

namespace {

std::string wire(const caf::error& err) {
  auto st = grpc_bridge::status_of(err);
  return std::to_string(static_cast<int>(st.error_code())) + " "
         + st.error_message();
}

std::string wire(sign_errc code) {
  // The detail is for logs only: it must never reach the caller.
  return wire(signing_api::make_error(code, "secret detail"));
}

} // namespace

CAF_TEST(each domain error has its code and text on the wire) {
  // Upstream's codes and texts where upstream has the case.
  CAF_CHECK_EQUAL(wire(sign_errc::unauthenticated),
                  "16 request authenticate failure");
  CAF_CHECK_EQUAL(wire(sign_errc::signing_failed),
                  "13 failed to sign certificate request");
  CAF_CHECK_EQUAL(
    wire(sign_errc::verification_failed),
    "13 failed to parse and verify signed certificate from issuer");
  // Ours: retriable (UNAVAILABLE) where the caller may succeed later.
  CAF_CHECK_EQUAL(
    wire(sign_errc::timed_out),
    "14 timed out waiting for the certificate request to be signed");
  CAF_CHECK_EQUAL(wire(sign_errc::signer_unavailable),
                  "14 certificate signer unavailable");
  CAF_CHECK_EQUAL(wire(sign_errc::pod_cache_not_synced),
                  "14 pod cache not synced");
  CAF_CHECK_EQUAL(wire(sign_errc::pod_cache_unavailable),
                  "14 pod cache unavailable");
  CAF_CHECK_EQUAL(wire(sign_errc::issuer_overloaded),
                  "14 too many certificate requests waiting for the issuer");
  CAF_CHECK_EQUAL(wire(sign_errc::cancelled), "1 call cancelled");
  // Anything that is no domain error.
  CAF_CHECK_EQUAL(wire(caf::make_error(caf::sec::runtime_error, "boom")),
                  "13 internal error");
}
