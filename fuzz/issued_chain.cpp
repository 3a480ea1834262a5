// What comes back from an issuer: X.509 certificates (every accessor the
// agent uses), the chain in a CertificateRequest's `status.certificate`
// (`policy::parse_single_chain`), the root bundle (`load_root_bundle`), the
// response chain verified against it (`build_response_chain`) and the check
// that the leaf is what was approved (`check_issued_leaf`).
//
// Input: a flags byte, then DER elements one after the other (a rest that is
// no element counts as one more). Flag 1: the elements are TBSCertificates
// that the target signs with its CA key (ECDSA P-256, SHA-256), the last one
// carrying that key (the root), so that mutations get past the signature
// checks to the chain logic; else they are certificates as they are. Flag
// 2: the issued text includes the last certificate (the root) too. The
// root bundle is the last certificate.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "actors/signing/policy/chain.hpp"
#include "actors/signing/policy/csr_policy.hpp"
#include "fuzz/fuzz_input.hpp"
#include "fuzz/signed_der.hpp"
#include "pki/certificate.hpp"
#include "pki/der.hpp"
#include "pki/pem.hpp"

using namespace istio_csr;
namespace policy = istio_csr::actors::signing::policy;

namespace {

const pki::private_key& ca_key() {
  static const auto key = fuzz::new_ec_key();
  return key;
}

/// `tbs` signed with the CA key; with the CA key in place of its
/// SubjectPublicKeyInfo when `root`.
std::string signed_certificate(std::string_view tbs, bool root) {
  int key_index = -1;
  if (root) {
    // [0] version (optional), serial, signature, issuer, validity, subject,
    // key.
    auto rest = tbs;
    auto outer = pki::der::read(rest);
    bool versioned
      = outer && !outer->content.empty() && outer->content.front() == '\xa0';
    key_index = versioned ? 6 : 5;
  }
  return fuzz::signed_der(tbs, ca_key(), key_index);
}

void use(const pki::certificate& cert) {
  (void)cert.subject_oneline();
  (void)cert.issuer_oneline();
  (void)cert.subject();
  (void)cert.issuer();
  (void)cert.serial_hex();
  (void)cert.not_before();
  (void)cert.not_after();
  (void)cert.sans();
  (void)cert.is_ca();
  (void)cert.path_len();
  (void)cert.key_usage();
  (void)cert.ext_key_usages();
  (void)cert.extensions();
  (void)cert.public_key().to_der();
  (void)cert.fingerprint_sha256();
  (void)cert.is_self_signed();
  auto again = pki::certificate::from_pem(cert.to_pem());
  fuzz::require(again && *again == cert, "to_pem reads back");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  auto in = fuzz::text(data, size);
  auto flags = fuzz::take_byte(in);
  bool sign = (flags & 1) != 0;
  bool root_in_issued = (flags & 2) != 0;
  std::vector<std::string> ders;
  while (!in.empty() && ders.size() < 8) {
    auto before = in;
    auto element = pki::der::read(in);
    if (!element) {
      ders.emplace_back(before);
      break;
    }
    ders.emplace_back(element->whole);
  }
  if (ders.empty())
    return 0;
  std::string issued;
  std::string root_pem;
  for (size_t i = 0; i < ders.size(); ++i) {
    bool last = i + 1 == ders.size();
    auto der = sign ? signed_certificate(ders[i], last) : ders[i];
    if (auto cert = pki::certificate::from_der(der))
      use(*cert);
    auto pem = pki::pem_encode("CERTIFICATE", der);
    if (!last || root_in_issued)
      issued += pem;
    if (last)
      root_pem = pem;
  }
  auto chain = policy::parse_single_chain(issued);
  if (chain) {
    fuzz::require(!chain->empty(), "a parsed chain has a leaf");
    const auto& leaf = chain->front();
    policy::approved_csr approved{
      "",
      leaf.public_key().to_der(),
      {"spiffe://cluster.local/ns/default/sa/default"}};
    (void)policy::check_issued_leaf(leaf, approved);
  }
  if (auto roots = policy::load_root_bundle(root_pem)) {
    auto response = policy::build_response_chain(issued, *roots);
    if (response)
      fuzz::require(!response->empty() && response->back() == roots->pem,
                    "the response chain ends with the roots");
  }
  return 0;
}
