#define CAF_SUITE pki.pem

#include "caf/test/unit_test.hpp"

#include "errors/describe.hpp"
#include "pki/certificate.hpp"
#include "pki/pem.hpp"
#include "tests/pki/test_pki.hpp"

using namespace istio_csr;
using istio_csr::test::unwrap;

CAF_TEST(pem blocks round trip with any label) {
  std::string der(200, '\x5a');
  auto pem = pki::pem_encode("SOMETHING ELSE", der);
  CAF_CHECK(pem.starts_with("-----BEGIN SOMETHING ELSE-----\n"));
  CAF_CHECK(pem.ends_with("-----END SOMETHING ELSE-----\n"));
  // 64-column lines.
  auto first_line_end = pem.find('\n', pem.find('\n') + 1);
  CAF_CHECK_EQUAL(first_line_end - pem.find('\n') - 1, 64u);
  auto block = unwrap(pki::first_pem_block("leading text\n" + pem));
  CAF_CHECK_EQUAL(block.type, "SOMETHING ELSE");
  CAF_CHECK_EQUAL(block.der, der);
}

CAF_TEST(first pem block skips malformed candidates like go) {
  auto good = pki::pem_encode("B", "good");
  // Bad base64 in the first block, END label mismatch in the second.
  std::string text = "-----BEGIN A-----\n!!!!\n-----END A-----\n"
                     "-----BEGIN C-----\nZm9v\n-----END D-----\n"
                     + good;
  auto block = unwrap(pki::first_pem_block(text));
  CAF_CHECK_EQUAL(block.type, "B");
  CAF_CHECK_EQUAL(block.der, "good");
  CAF_CHECK(!pki::first_pem_block("no pem here"));
  CAF_CHECK(!pki::first_pem_block("-----BEGIN A-----\nZm9v\n"));
  CAF_CHECK_EQUAL(pki::pem_blocks(text + good).size(), 2u);
  // Windows line endings and indentation by spaces are accepted.
  auto crlf = unwrap(
    pki::first_pem_block("-----BEGIN X-----\r\n Zm9v\r\n-----END X-----\r\n"));
  CAF_CHECK_EQUAL(crlf.der, "foo");
}

CAF_TEST(certificate bundles keep order and duplicates) {
  auto a = test::make_root("a");
  auto b = test::make_root("b");
  auto text = a.cert.to_pem() + "comment between blocks\n" + b.cert.to_pem()
              + a.cert.to_pem();
  auto certs = unwrap(pki::parse_pem_bundle(text, text.size()));
  CAF_REQUIRE_EQUAL(certs.size(), 3u);
  CAF_CHECK(certs[0] == a.cert);
  CAF_CHECK(certs[1] == b.cert);
  CAF_CHECK(certs[2] == a.cert);
}

CAF_TEST(certificate bundles reject empty oversize and foreign blocks) {
  auto a = test::make_root("a");
  auto pem = a.cert.to_pem();
  CAF_CHECK(!pki::parse_pem_bundle("", 1000));
  CAF_CHECK(!pki::parse_pem_bundle("just text\n", 1000));
  CAF_CHECK(!pki::parse_pem_bundle(pem, pem.size() - 1));
  CAF_CHECK(pki::parse_pem_bundle(pem, pem.size()));
  auto with_key = pem + a.key.to_pem();
  auto err = pki::parse_pem_bundle(with_key, 100000);
  CAF_REQUIRE(!err);
  CAF_CHECK(errors::message(err.error()).find("PRIVATE KEY")
            != std::string::npos);
  auto bad_der = pem + pki::pem_encode("CERTIFICATE", "not der");
  CAF_CHECK(!pki::parse_pem_bundle(bad_der, 100000));
}
