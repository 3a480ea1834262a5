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
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "actors/signing/policy/csr_policy.hpp"
#include "fuzz/fuzz_input.hpp"
#include "pki/crypto.hpp"
#include "pki/der.hpp"
#include "pki/pem.hpp"
#include "pki/private_key.hpp"
#include "tests/support/der.hpp"

using namespace istio_csr;
namespace policy = istio_csr::actors::signing::policy;

namespace {

const pki::private_key& signing_key() {
  static const auto key = [] {
    auto k = pki::private_key::generate_ec(256);
    if (!k)
      std::abort();
    return *k;
  }();
  return key;
}

/// A signed CSR of `info` with our key in place of its third element (the
/// SubjectPublicKeyInfo); `info` as is when it is not a SEQUENCE of at
/// least three elements.
std::string signed_csr(std::string_view info) {
  auto rest = info;
  auto outer = pki::der::read(rest);
  std::string body;
  if (outer && outer->is(pki::der::tag::sequence, true)) {
    auto inner = outer->content;
    int index = 0;
    while (!inner.empty()) {
      auto before = inner;
      auto element = pki::der::read(inner);
      if (!element) {
        body += before; // the unreadable rest, as written
        break;
      }
      body += index++ == 2 ? signing_key().public_key().to_der()
                           : std::string{element->whole};
    }
  } else {
    body = std::string{info};
  }
  auto signed_info = test::der_sequence(body);
  auto signature = pki::sign_sha256(signing_key(), signed_info);
  if (!signature)
    std::abort();
  // AlgorithmIdentifier ecdsa-with-SHA256 (1.2.840.10045.4.3.2).
  constexpr std::string_view ecdsa_with_sha256
    = "\x30\x0a\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x02";
  return test::der_sequence(
    signed_info + std::string{ecdsa_with_sha256}
    + test::der_tlv(0x03, std::string(1, '\0') + *signature));
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
    pem = pki::pem_encode("CERTIFICATE REQUEST", signed_csr(in));
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
