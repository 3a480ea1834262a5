#define CAF_SUITE devcluster_issuer.signer

#include "caf/test/unit_test.hpp"

#include "devcluster/issuer/signer.hpp"
#include "errors/describe.hpp"
#include "pki/error.hpp"
#include "pki/extensions.hpp"
#include "tests/devcluster/issuer/fixture.hpp"

using namespace istio_csr;
using namespace istio_csr::devcluster::issuer;

CAF_TEST(key usages follow cert manager) {
  auto defaults = map_key_usages({}, false);
  CAF_REQUIRE(defaults);
  unsigned expected
    = pki::key_usage::digital_signature | pki::key_usage::key_encipherment;
  CAF_CHECK_EQUAL(defaults->bits, expected);
  CAF_CHECK(defaults->extended.empty());
  auto mixed = map_key_usages({"signing", "server auth", "s/mime"}, true);
  CAF_REQUIRE(mixed);
  unsigned mixed_bits
    = pki::key_usage::digital_signature | pki::key_usage::cert_sign;
  CAF_CHECK_EQUAL(mixed->bits, mixed_bits);
  std::vector<std::string> ekus{"1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.4"};
  CAF_CHECK_EQUAL(mixed->extended, ekus);
  auto bad = map_key_usages({"server auth", "flying", "x"}, false);
  CAF_REQUIRE(!bad);
  auto text = errors::message(bad.error());
  CAF_CHECK_EQUAL(text, "unknown key usages: [flying x]");
}

CAF_TEST(single chain ordering) {
  using namespace istio_csr::test::issuer;
  auto root = make_root("r");
  auto inter = make_intermediate("i", root);
  auto leaf = make_intermediate("l", inter);
  // Any order, duplicates dropped; the self-signed root is only the CA.
  auto chain = single_chain(leaf.cert, {root.cert, inter.cert, root.cert});
  CAF_REQUIRE(chain);
  auto expected_chain = leaf.cert.to_pem() + inter.cert.to_pem();
  CAF_CHECK_EQUAL(chain->chain_pem, expected_chain);
  auto root_pem = root.cert.to_pem();
  CAF_CHECK_EQUAL(chain->ca_pem, root_pem);
  // Without the root, the intermediate is both in the chain and the CA.
  auto partial = single_chain(leaf.cert, {inter.cert});
  CAF_REQUIRE(partial);
  CAF_CHECK_EQUAL(partial->chain_pem, expected_chain);
  auto inter_pem = inter.cert.to_pem();
  CAF_CHECK_EQUAL(partial->ca_pem, inter_pem);
  // A certificate that belongs to no chain.
  auto other = make_root("other");
  auto broken = single_chain(leaf.cert, {inter.cert, other.cert});
  CAF_CHECK(!broken);
}
