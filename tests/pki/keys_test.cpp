#define CAF_SUITE pki.keys

#include "caf/test/unit_test.hpp"

#include "errors/describe.hpp"
#include "pki/crypto.hpp"
#include "pki/private_key.hpp"
#include "tests/pki/test_pki.hpp"

using namespace istio_csr;
using istio_csr::test::unwrap;

CAF_TEST(rsa keys have the requested size and survive pkcs8 and pkcs1 pem) {
  auto key = unwrap(pki::private_key::generate_rsa(2048));
  CAF_CHECK(key.algorithm() == pki::key_algorithm::rsa);
  CAF_CHECK_EQUAL(key.bits(), 2048);
  auto pkcs8 = key.to_pem();
  CAF_CHECK(pkcs8.starts_with("-----BEGIN PRIVATE KEY-----\n"));
  auto pkcs1 = key.to_traditional_pem();
  CAF_CHECK(pkcs1.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
  for (const auto& pem : {pkcs8, pkcs1}) {
    auto back = unwrap(pki::private_key::from_pem(pem));
    CAF_CHECK(back.public_key() == key.public_key());
    CAF_CHECK_EQUAL(back.bits(), 2048);
    // The same key signs what the original key's public half verifies.
    auto sig = unwrap(pki::sign_sha256(back, "hello"));
    CAF_CHECK(pki::verify_sha256(key.public_key(), "hello", sig));
  }
}

CAF_TEST(ec keys on p256 and p384 survive pkcs8 and sec1 pem) {
  for (int bits : {256, 384}) {
    auto key = unwrap(pki::private_key::generate_ec(bits));
    CAF_CHECK(key.algorithm() == pki::key_algorithm::ec);
    CAF_CHECK_EQUAL(key.bits(), bits);
    auto sec1 = key.to_traditional_pem();
    CAF_CHECK(sec1.starts_with("-----BEGIN EC PRIVATE KEY-----\n"));
    auto back = unwrap(pki::private_key::from_pem(sec1));
    CAF_CHECK(back.public_key() == key.public_key());
    auto back8 = unwrap(pki::private_key::from_pem(key.to_pem()));
    CAF_CHECK(back8.public_key() == key.public_key());
    CAF_CHECK_EQUAL(back8.bits(), bits);
  }
}

CAF_TEST(unsupported key sizes are errors) {
  CAF_CHECK(!pki::private_key::generate_ec(521));
  CAF_CHECK(!pki::private_key::generate_ec(255));
  CAF_CHECK(!pki::private_key::generate_rsa(512));
  auto err = pki::private_key::generate_ec(1).error();
  CAF_CHECK(errors::message(err).find("supported: 256, 384")
            != std::string::npos);
}

CAF_TEST(garbage is not a private key) {
  CAF_CHECK(!pki::private_key::from_pem(""));
  CAF_CHECK(!pki::private_key::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n"
                                        "-----END PRIVATE KEY-----\n"));
  auto key = test::ec_key();
  // A public key PEM is not a private key.
  CAF_CHECK(!pki::private_key::from_pem(key.public_key().to_pem()));
}

CAF_TEST(public keys round trip through pem and der and compare by value) {
  auto a = test::ec_key();
  auto b = test::ec_key();
  auto pa = a.public_key();
  CAF_CHECK(pa.algorithm() == pki::key_algorithm::ec);
  CAF_CHECK_EQUAL(pa.bits(), 256);
  auto from_pem = unwrap(pki::public_key::from_pem(pa.to_pem()));
  auto from_der = unwrap(pki::public_key::from_der(pa.to_der()));
  CAF_CHECK(from_pem == pa);
  CAF_CHECK(from_der == pa);
  CAF_CHECK(!(pa == b.public_key()));
  // The public half carries no private material.
  CAF_CHECK(pa.to_pem().find("PRIVATE") == std::string::npos);
  CAF_CHECK(!pki::public_key::from_der(pa.to_der() + "x"));
}

CAF_TEST(copies share one key) {
  auto a = test::ec_key();
  auto b = a;
  CAF_CHECK(a.native() == b.native());
  pki::private_key c = test::ec_key();
  c = a;
  CAF_CHECK(c.public_key() == a.public_key());
}
