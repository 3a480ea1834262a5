#define CAF_SUITE signing.chain

#include "caf/test/unit_test.hpp"

#include "actors/signing/policy/chain.hpp"
#include "errors/describe.hpp"
#include "pki/issue.hpp"
#include "tests/pki/test_pki.hpp"

using namespace istio_csr;
using namespace istio_csr::actors::signing::policy;
using istio_csr::test::key_and_cert;
using istio_csr::test::unwrap;

namespace {

using strings = std::vector<std::string>;

pki::subject_alt_names leaf_sans() {
  pki::subject_alt_names sans;
  sans.uris = {"spiffe://cluster.local/ns/a/sa/b"};
  return sans;
}

// Upstream's Test_parseCertificateBundle set-up: root1 → intA-1 → intA-2 →
// leaf; root2 → intB-1; root3.
struct fixture {
  key_and_cert root1 = test::make_root("root");
  key_and_cert root2 = test::make_root("root2");
  key_and_cert root3 = test::make_root("root3");
  key_and_cert int1a = test::make_intermediate("intA-1", root1);
  key_and_cert int1b = test::make_intermediate("intA-2", int1a);
  key_and_cert int2a = test::make_intermediate("intB-1", root2);
  key_and_cert leaf = test::make_leaf(int1b, leaf_sans());

  root_bundle roots(const std::vector<const key_and_cert*>& xs) {
    std::string pem;
    for (auto* x : xs)
      pem += x->cert.to_pem();
    return unwrap(load_root_bundle(pem));
  }

  strings expect(const std::vector<const key_and_cert*>& chain,
                 const root_bundle& rb) {
    strings out;
    for (auto* x : chain)
      out.push_back(x->cert.to_pem());
    out.push_back(rb.pem);
    return out;
  }
};

std::string join(const std::vector<const key_and_cert*>& xs) {
  std::string out;
  for (auto* x : xs)
    out += x->cert.to_pem();
  return out;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(chain_tests, fixture)

// -- server_test.go Test_parseCertificateBundle -------------------------------

CAF_TEST(garbage is an error) {
  auto rb = roots({&root1});
  CAF_CHECK(!build_response_chain("bad-cert", rb));
}

CAF_TEST(a chain that is not a single chain is an error) {
  auto rb = roots({&root1, &root2, &root3});
  auto res = build_response_chain(join({&leaf, &int2a}), rb);
  CAF_REQUIRE(!res);
  CAF_CHECK(errors::message(res.error())
              .find("certificate chain is malformed or broken")
            != std::string::npos);
}

CAF_TEST(a chain not from a current root is an error) {
  auto rb = roots({&root2, &root3});
  auto res = build_response_chain(join({&leaf, &int1b, &int1a}), rb);
  CAF_REQUIRE(!res);
  CAF_MESSAGE(errors::message(res.error()));
}

CAF_TEST(a chain from the root gives the chain then the root) {
  auto rb = roots({&root1});
  auto res = unwrap(build_response_chain(join({&leaf, &int1b, &int1a}), rb));
  CAF_CHECK_EQUAL(res, expect({&leaf, &int1b, &int1a}, rb));
  CAF_CHECK_EQUAL(res.back(), root1.cert.to_pem());
}

CAF_TEST(all roots go into one final element) {
  auto rb = roots({&root1, &root2, &root3});
  auto res = unwrap(build_response_chain(join({&leaf, &int1b, &int1a}), rb));
  CAF_REQUIRE_EQUAL(res.size(), 4u);
  CAF_CHECK_EQUAL(res[3], root1.cert.to_pem() + root2.cert.to_pem()
                            + root3.cert.to_pem());
}

// -- the rest of cert-manager's single-chain rules ----------------------------

CAF_TEST(input order and duplicates do not matter) {
  auto rb = roots({&root1});
  auto want = expect({&leaf, &int1b, &int1a}, rb);
  for (const auto& order : std::vector<std::vector<const key_and_cert*>>{
         {&int1a, &leaf, &int1b},
         {&int1b, &int1a, &leaf},
         {&int1a, &int1b, &leaf},
         {&leaf, &leaf, &int1b, &int1a, &int1b}}) {
    auto res = build_response_chain(join(order), rb);
    CAF_REQUIRE(res);
    CAF_CHECK_EQUAL(*res, want);
  }
}

CAF_TEST(a self signed root in the issued chain is dropped) {
  auto rb = roots({&root1});
  auto res
    = unwrap(build_response_chain(join({&root1, &leaf, &int1a, &int1b}), rb));
  CAF_CHECK_EQUAL(res, expect({&leaf, &int1b, &int1a}, rb));
  auto direct = test::make_leaf(root2, leaf_sans());
  auto rb2 = roots({&root2});
  auto res2 = unwrap(build_response_chain(join({&direct, &root2}), rb2));
  CAF_CHECK_EQUAL(res2, expect({&direct}, rb2));
}

CAF_TEST(a lone certificate is kept even when self signed) {
  auto chain = unwrap(parse_single_chain(root1.cert.to_pem()));
  CAF_REQUIRE_EQUAL(chain.size(), 1u);
  CAF_CHECK(chain[0] == root1.cert);
  auto only_leaf = unwrap(parse_single_chain(leaf.cert.to_pem()));
  CAF_REQUIRE_EQUAL(only_leaf.size(), 1u);
  // A lone leaf still needs its intermediates to verify.
  CAF_CHECK(!build_response_chain(leaf.cert.to_pem(), roots({&root1})));
}

CAF_TEST(a certificate that is not a ca does not link) {
  // A certificate "issued" with a leaf's key: the signature verifies, but
  // the leaf is no CA (Go's CheckSignatureFrom), so the chain is broken.
  pki::cert_template tmpl;
  tmpl.sans = leaf_sans();
  tmpl.not_before = std::chrono::system_clock::now() - std::chrono::minutes{1};
  tmpl.not_after = tmpl.not_before + std::chrono::hours{1};
  auto key = test::ec_key();
  auto child = unwrap(pki::issue(tmpl, key.public_key(), leaf.cert, leaf.key));
  auto res = parse_single_chain(child.to_pem() + leaf.cert.to_pem());
  CAF_REQUIRE(!res);
  CAF_CHECK_EQUAL(errors::message(res.error()),
                  "certificate chain is malformed or broken");
}

CAF_TEST(leaves must be good for client or server auth) {
  auto rb = roots({&root1});
  auto server
    = test::make_leaf(int1b, leaf_sans(), {std::string{pki::oid::server_auth}});
  auto client
    = test::make_leaf(int1b, leaf_sans(), {std::string{pki::oid::client_auth}});
  auto code = test::make_leaf(int1b, leaf_sans(),
                              {std::string{pki::oid::code_signing}});
  CAF_CHECK(build_response_chain(join({&server, &int1b, &int1a}), rb));
  CAF_CHECK(build_response_chain(join({&client, &int1b, &int1a}), rb));
  CAF_CHECK(!build_response_chain(join({&code, &int1b, &int1a}), rb));
}

CAF_TEST(the issued chain is limited to 95000 bytes) {
  auto rb = roots({&root1});
  auto pem = join({&leaf, &int1b, &int1a});
  auto padded = pem + std::string(max_chain_pem_bytes - pem.size(), '\n');
  CAF_CHECK(build_response_chain(padded, rb));
  CAF_CHECK(!build_response_chain(padded + "\n", rb));
}

// -- root bundles -------------------------------------------------------------

CAF_TEST(root bundles keep their bytes) {
  auto pem
    = "# mesh roots\n" + root1.cert.to_pem() + "\n\n" + root2.cert.to_pem();
  auto rb = unwrap(load_root_bundle(pem));
  CAF_CHECK_EQUAL(rb.pem, pem);
  CAF_REQUIRE_EQUAL(rb.certs.size(), 2u);
  CAF_CHECK(rb.certs[0] == root1.cert);
  CAF_CHECK(rb.certs[1] == root2.cert);
  auto res = unwrap(build_response_chain(join({&leaf, &int1b, &int1a}), rb));
  CAF_CHECK_EQUAL(res.back(), pem);
}

CAF_TEST(bad root bundles are errors) {
  auto empty = load_root_bundle("");
  CAF_REQUIRE(!empty);
  CAF_CHECK_EQUAL(errors::message(empty.error()), "root CA bundle is empty");
  CAF_CHECK(!load_root_bundle("not pem"));
  CAF_CHECK(!load_root_bundle(root1.cert.to_pem() + root1.key.to_pem()));
  auto pem = root1.cert.to_pem();
  CAF_CHECK(load_root_bundle(
    pem + std::string(max_root_bundle_bytes - pem.size(), '\n')));
  CAF_CHECK(!load_root_bundle(
    pem + std::string(max_root_bundle_bytes - pem.size() + 1, '\n')));
}

CAF_TEST_FIXTURE_SCOPE_END()
