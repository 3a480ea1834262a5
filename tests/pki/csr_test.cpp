#define CAF_SUITE pki.csr

#include "caf/test/unit_test.hpp"

#include "pki/crypto.hpp"
#include "pki/csr.hpp"
#include "pki/extensions.hpp"
#include "pki/names.hpp"
#include "pki/pem.hpp"
#include "tests/pki/test_pki.hpp"
#include "tests/support/process.hpp"

using namespace istio_csr;
using istio_csr::test::unwrap;

namespace {

std::string s(std::string_view x) {
  return std::string{x};
}

} // namespace

CAF_TEST(san strings are classified like istio pkiutil) {
  auto sans = pki::classify_san_strings(
    {"istio-csr.cert-manager.svc", "10.0.0.1", "::1", "fd00::10",
     "spiffe://cluster.local/ns/a/sa/b", "1.2.3", "spiffe:/x", "SPIFFE://x",
     "256.1.1.1"});
  CAF_CHECK_EQUAL(sans.ips,
                  (std::vector<std::string>{"10.0.0.1", "::1", "fd00::10"}));
  CAF_CHECK_EQUAL(sans.uris,
                  std::vector<std::string>{"spiffe://cluster.local/ns/a/sa/b"});
  CAF_CHECK_EQUAL(sans.dns, (std::vector<std::string>{
                              "istio-csr.cert-manager.svc", "1.2.3",
                              "spiffe:/x", "SPIFFE://x", "256.1.1.1"}));
  CAF_CHECK(sans.emails.empty());
}

CAF_TEST(default csrs have the istio shape) {
  auto key = test::ec_key();
  pki::csr_template tmpl;
  tmpl.sans = pki::classify_san_strings(
    {"istio-csr.cert-manager.svc", "10.1.2.3", "spiffe://td/ns/a/sa/b"});
  auto req = unwrap(pki::make_csr(key, tmpl));
  CAF_CHECK(req.verify_signature());
  CAF_CHECK(!req.common_name());
  CAF_CHECK(req.subject() == (pki::distinguished_name{std::nullopt, {""}, {}}));
  CAF_CHECK(unwrap(req.sans()) == tmpl.sans);
  auto exts = unwrap(req.requested_extensions());
  CAF_REQUIRE_EQUAL(exts.size(), 1u);
  CAF_CHECK_EQUAL(exts[0].oid, s(pki::oid::subject_alt_name));
  CAF_CHECK(exts[0].critical);
  CAF_CHECK_EQUAL(exts[0].value,
                  unwrap(pki::encode_subject_alt_names(tmpl.sans)));
  CAF_CHECK(req.public_key() == key.public_key());
  // PEM round trip.
  auto pem = req.to_pem();
  CAF_CHECK(pem.starts_with("-----BEGIN CERTIFICATE REQUEST-----\n"));
  auto back = unwrap(pki::csr::from_pem(pem));
  CAF_CHECK_EQUAL(back.to_der(), req.to_der());
  // openssl, as an independent party, reads it the same way.
  test::temp_dir dir;
  auto path = dir.write("req.pem", pem);
  auto out = test::run({test::program("openssl"), "req", "-in", path, "-noout",
                        "-verify", "-subject", "-text"});
  CAF_CHECK_EQUAL(out.exit_code, 0);
  for (auto needle : {"subject=O = \n",
                      "X509v3 Subject Alternative Name: "
                      "critical",
                      "DNS:istio-csr.cert-manager.svc", "IP Address:10.1.2.3",
                      "URI:spiffe://td/ns/a/sa/b"})
    if ((out.out + out.err).find(needle) == std::string::npos)
      CAF_FAIL("openssl req output lacks '" << needle << "':\n"
                                            << out.out << out.err);
  CAF_CHECK((out.out + out.err).find("verify OK") != std::string::npos);
}

CAF_TEST(csrs from rsa keys verify too) {
  auto key = unwrap(pki::private_key::generate_rsa(2048));
  pki::csr_template tmpl;
  tmpl.sans.uris = {"spiffe://td/ns/a/sa/b"};
  auto req = unwrap(pki::make_csr(key, tmpl));
  CAF_CHECK(req.verify_signature());
  CAF_CHECK_EQUAL(req.public_key().bits(), 2048);
}

CAF_TEST(tampered csrs fail the signature check) {
  auto key = test::ec_key();
  pki::csr_template tmpl;
  tmpl.sans.uris = {"spiffe://td/ns/a/sa/b"};
  auto der = unwrap(pki::make_csr(key, tmpl)).to_der();
  // Change one letter of the URI inside the signed part.
  auto pos = der.find("ns/a");
  CAF_REQUIRE(pos != std::string::npos);
  der[pos + 3] = 'x';
  auto tampered = unwrap(pki::csr::from_der(der));
  CAF_CHECK(!tampered.verify_signature());
  CAF_CHECK_EQUAL(unwrap(tampered.sans()).uris,
                  std::vector<std::string>{"spiffe://td/ns/x/sa/b"});
  // A signature made by another key.
  auto other = test::ec_key();
  auto req = unwrap(pki::make_csr(other, tmpl));
  auto req_der = req.to_der();
  auto orig_der = unwrap(pki::make_csr(key, tmpl)).to_der();
  CAF_CHECK(unwrap(pki::csr::from_der(req_der)).verify_signature());
  CAF_CHECK(unwrap(pki::csr::from_der(orig_der)).verify_signature());
}

CAF_TEST(csr pem is read from the first block whatever its label) {
  auto key = test::ec_key();
  auto req = unwrap(pki::make_csr(key, {}));
  auto der = req.to_der();
  auto odd = unwrap(pki::csr::from_pem(pki::pem_encode("FOO", der)));
  CAF_CHECK_EQUAL(odd.to_der(), der);
  // The first block decides, even if a CSR follows.
  CAF_CHECK(!pki::csr::from_pem(pki::pem_encode("FOO", "x")
                                + pki::pem_encode("CERTIFICATE REQUEST", der)));
  CAF_CHECK(!pki::csr::from_pem("bad csr"));
  CAF_CHECK(!pki::csr::from_der(der + "x"));
  // Without SANs there is no extension at all.
  CAF_CHECK(unwrap(req.requested_extensions()).empty());
  CAF_CHECK(unwrap(req.sans()).empty());
}

CAF_TEST(extra extensions are carried raw) {
  auto key = test::ec_key();
  pki::csr_template tmpl;
  tmpl.subject.common_name = "cn";
  tmpl.subject.organizational_units = {"ou"};
  tmpl.sans.emails = {"a@b.c"};
  tmpl.san_critical = false;
  auto ku = pki::encode_key_usage(pki::key_usage::digital_signature);
  auto eku = unwrap(pki::encode_ext_key_usage({s(pki::oid::server_auth)}));
  tmpl.extra_extensions = {{s(pki::oid::key_usage), true, ku},
                           {s(pki::oid::ext_key_usage), false, eku},
                           {"1.2.3.4.5", false, std::string("\x05\x00", 2)}};
  auto req = unwrap(pki::make_csr(key, tmpl));
  CAF_CHECK(req.verify_signature());
  CAF_CHECK_EQUAL(req.common_name().value_or("-"), "cn");
  CAF_CHECK_EQUAL(req.subject().organizational_units,
                  std::vector<std::string>{"ou"});
  auto exts = unwrap(req.requested_extensions());
  CAF_REQUIRE_EQUAL(exts.size(), 4u);
  CAF_CHECK(!exts[0].critical);
  CAF_CHECK(exts[1] == tmpl.extra_extensions[0]);
  CAF_CHECK(exts[2] == tmpl.extra_extensions[1]);
  CAF_CHECK_EQUAL(exts[3].oid, "1.2.3.4.5");
  CAF_CHECK_EQUAL(exts[3].value, std::string("\x05\x00", 2));
}

CAF_TEST(extension encoders produce the go encodings) {
  using namespace pki::key_usage;
  CAF_CHECK_EQUAL(pki::hex(pki::encode_key_usage(digital_signature)),
                  "03020780");
  CAF_CHECK_EQUAL(pki::hex(pki::encode_key_usage(key_encipherment)),
                  "03020520");
  CAF_CHECK_EQUAL(
    pki::hex(pki::encode_key_usage(digital_signature | key_encipherment)),
    "030205a0");
  CAF_CHECK_EQUAL(pki::hex(pki::encode_key_usage(decipher_only)), "0303070080");
  CAF_CHECK_EQUAL(pki::hex(pki::encode_key_usage(cert_sign)), "03020204");
  CAF_CHECK_EQUAL(pki::hex(unwrap(pki::encode_ext_key_usage(
                    {s(pki::oid::server_auth), s(pki::oid::client_auth)}))),
                  "301406082b0601050507030106082b06010505070302");
  CAF_CHECK_EQUAL(pki::hex(pki::encode_basic_constraints(false)), "3000");
  CAF_CHECK_EQUAL(pki::hex(pki::encode_basic_constraints(true, 0)),
                  "30060101ff020100");
  CAF_CHECK(!pki::encode_ext_key_usage({"not an oid"}));
  pki::subject_alt_names bad_ip;
  bad_ip.ips = {"10.0.0.256"};
  CAF_CHECK(!pki::encode_subject_alt_names(bad_ip));
  CAF_CHECK_EQUAL(unwrap(pki::decode_key_usage(
                    pki::encode_key_usage(digital_signature | decipher_only))),
                  digital_signature | decipher_only);
  CAF_CHECK_EQUAL(unwrap(pki::decode_ext_key_usage(unwrap(
                    pki::encode_ext_key_usage({s(pki::oid::code_signing)})))),
                  std::vector<std::string>{s(pki::oid::code_signing)});
}
