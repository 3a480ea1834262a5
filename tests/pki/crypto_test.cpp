#define CAF_SUITE pki.crypto

#include "caf/test/unit_test.hpp"

#include "pki/crypto.hpp"
#include "tests/pki/test_pki.hpp"

using namespace istio_csr;
using istio_csr::test::unwrap;

CAF_TEST(sha256 matches the fips 180 test vector) {
  CAF_CHECK_EQUAL(
    pki::hex(pki::sha256("abc")),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CAF_CHECK_EQUAL(
    pki::hex(pki::sha256("")),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

CAF_TEST(base64 matches rfc 4648 vectors) {
  std::pair<std::string, std::string> cases[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
  };
  for (auto& [plain, encoded] : cases) {
    CAF_CHECK_EQUAL(pki::base64_encode(plain), encoded);
    CAF_CHECK_EQUAL(unwrap(pki::base64_decode(encoded)), plain);
  }
  CAF_CHECK(!pki::base64_decode("Zm9v!"));
  CAF_CHECK(!pki::base64_decode("Zg="));  // wrong padding
  CAF_CHECK(!pki::base64_decode("Z"));    // impossible length
  CAF_CHECK(!pki::base64_decode("Zh==")); // non-canonical trailing bits
}

CAF_TEST(base64url has no padding and uses the url alphabet) {
  std::string bytes = "\xfb\xff\xbf";
  CAF_CHECK_EQUAL(pki::base64_encode(bytes), "+/+/");
  CAF_CHECK_EQUAL(pki::base64url_encode(bytes), "-_-_");
  CAF_CHECK_EQUAL(pki::base64url_encode("f"), "Zg");
  CAF_CHECK_EQUAL(unwrap(pki::base64url_decode("Zg")), "f");
  CAF_CHECK_EQUAL(unwrap(pki::base64url_decode("Zg==")), "f");
  CAF_CHECK_EQUAL(unwrap(pki::base64url_decode("-_-_")), bytes);
  CAF_CHECK(!pki::base64url_decode("+/+/"));
}

CAF_TEST(random bytes have the requested length and differ) {
  auto a = pki::random_bytes(32);
  auto b = pki::random_bytes(32);
  CAF_CHECK_EQUAL(a.size(), 32u);
  CAF_CHECK_NOT_EQUAL(a, b);
  CAF_CHECK(pki::random_bytes(0).empty());
}

CAF_TEST(sha256 signatures verify only with the right key and data) {
  auto rsa = unwrap(pki::private_key::generate_rsa(2048));
  auto ec = test::ec_key();
  for (const auto& key : {rsa, ec}) {
    auto sig = unwrap(pki::sign_sha256(key, "payload"));
    CAF_CHECK(pki::verify_sha256(key.public_key(), "payload", sig));
    CAF_CHECK(!pki::verify_sha256(key.public_key(), "payloaD", sig));
    auto bad = sig;
    bad[bad.size() / 2] ^= 0x01;
    CAF_CHECK(!pki::verify_sha256(key.public_key(), "payload", bad));
    CAF_CHECK(!pki::verify_sha256(key.public_key(), "payload", ""));
  }
  auto sig = unwrap(pki::sign_sha256(rsa, "payload"));
  CAF_CHECK(!pki::verify_sha256(ec.public_key(), "payload", sig));
  CAF_CHECK(!pki::verify_sha256(test::ec_key().public_key(), "payload",
                                unwrap(pki::sign_sha256(ec, "payload"))));
}

CAF_TEST(jws signatures are rs256 or raw r and s for es256 and es384) {
  auto rsa = unwrap(pki::private_key::generate_rsa(2048));
  auto p256 = test::ec_key();
  auto p384 = unwrap(pki::private_key::generate_ec(384));
  CAF_CHECK_EQUAL(pki::jws_algorithm(rsa.public_key()), "RS256");
  CAF_CHECK_EQUAL(pki::jws_algorithm(p256.public_key()), "ES256");
  CAF_CHECK_EQUAL(pki::jws_algorithm(p384.public_key()), "ES384");
  std::string input = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0";
  auto rs = unwrap(pki::jws_sign(rsa, input));
  CAF_CHECK_EQUAL(rs.size(), 256u);
  // RS256 is plain PKCS#1 v1.5 over SHA-256.
  CAF_CHECK(pki::verify_sha256(rsa.public_key(), input, rs));
  CAF_CHECK(pki::jws_verify(rsa.public_key(), input, rs));
  auto es = unwrap(pki::jws_sign(p256, input));
  CAF_CHECK_EQUAL(es.size(), 64u);
  CAF_CHECK(pki::jws_verify(p256.public_key(), input, es));
  CAF_CHECK(!pki::jws_verify(p256.public_key(), input + "x", es));
  auto es384 = unwrap(pki::jws_sign(p384, input));
  CAF_CHECK_EQUAL(es384.size(), 96u);
  CAF_CHECK(pki::jws_verify(p384.public_key(), input, es384));
  CAF_CHECK(!pki::jws_verify(p256.public_key(), input, es384));
}
