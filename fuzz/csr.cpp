// PKCS#10 DER as the agent and cert-manager read it: the strict parser, both
// readings of the requested extensions, SANs, subject and key.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_input.hpp"
#include "pki/csr.hpp"
#include "pki/pem.hpp"

using namespace istio_csr;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  auto in = fuzz::text(data, size);
  auto request = pki::csr::from_der(in);
  if (!request)
    return 0;
  fuzz::require(request->to_der() == in, "to_der is the DER parsed");
  (void)request->verify_signature();
  (void)request->subject();
  (void)request->common_name();
  (void)request->has_common_name();
  (void)request->sans();
  (void)request->go_extensions();
  (void)request->requested_extensions();
  (void)request->public_key().to_der();
  auto again = pki::csr::from_pem_exact(request->to_pem());
  fuzz::require(again && again->to_der() == in,
                "to_pem reads back with from_pem_exact");
  return 0;
}
