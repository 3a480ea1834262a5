// The signing path's CSR policy (`policy::authorize_csr`), which every
// workload CSR goes through after authentication, and what it approves.
//
// Input: a mode byte, then
// - mode 0: the CSR text as sent by the caller;
// - mode 1: CSR DER, sent as one canonical PEM block;
// - mode 2: the DER of a CertificationRequestInfo, whose public key the
//   target replaces with its own and then signs (ECDSA P-256, SHA-256), so
//   that mutations get past the signature check to the extension and
//   identity rules.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "actors/signing/policy/csr_policy.hpp"
#include "fuzz/fuzz_input.hpp"
#include "fuzz/signed_der.hpp"
#include "pki/pem.hpp"

using namespace istio_csr;
namespace policy = istio_csr::actors::signing::policy;

namespace {

const pki::private_key& signing_key() {
  static const auto key = fuzz::new_ec_key();
  return key;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  auto in = fuzz::text(data, size);
  auto mode = fuzz::take_byte(in) % 3;
  std::string pem;
  if (mode == 0)
    pem = std::string{in};
  else if (mode == 1)
    pem = pki::pem_encode("CERTIFICATE REQUEST", in);
  else
    pem = pki::pem_encode("CERTIFICATE REQUEST",
                          fuzz::signed_der(in, signing_key(), 2));
  const std::vector<std::string> identities{
    "spiffe://cluster.local/ns/default/sa/default"};
  auto decision = policy::authorize_csr(pem, identities);
  if (auto* approved = std::get_if<policy::approved_csr>(&decision)) {
    // What goes into the CertificateRequest is exactly what was checked.
    auto der = pki::pem_decode_exact(approved->pem(), "CERTIFICATE REQUEST");
    fuzz::require(der && *der == approved->der,
                  "the approved PEM holds the approved DER");
    fuzz::require(approved->identities == identities,
                  "approved identities are the caller's");
  } else {
    auto& rejection = std::get<policy::csr_rejection>(decision);
    (void)policy::to_string(rejection.reason);
  }
  return 0;
}
