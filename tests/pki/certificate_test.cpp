#define CAF_SUITE pki.certificates

#include "caf/test/unit_test.hpp"

#include <chrono>

#include "errors/describe.hpp"
#include "pki/certificate.hpp"
#include "pki/csr.hpp"
#include "pki/issue.hpp"
#include "pki/pem.hpp"
#include "pki/verify.hpp"
#include "tests/pki/test_pki.hpp"
#include "tests/support/process.hpp"

using namespace istio_csr;
using namespace std::chrono_literals;
using istio_csr::test::unwrap;

namespace {

std::string s(std::string_view x) {
  return std::string{x};
}

pki::subject_alt_names all_sans() {
  pki::subject_alt_names sans;
  sans.dns = {"svc.ns.svc", "svc.ns.svc.cluster.local"};
  sans.ips = {"10.0.0.1", "fd00::1"};
  sans.uris = {"spiffe://cluster.local/ns/ns/sa/sa"};
  sans.emails = {"ops@example.com"};
  return sans;
}

struct chain_fixture {
  test::key_and_cert root = test::make_root("root");
  test::key_and_cert inter = test::make_intermediate("intermediate", root);
  test::key_and_cert leaf = test::make_leaf(inter, all_sans());
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(certificate_tests, chain_fixture)

CAF_TEST(self signed ca certificates carry what the template says) {
  auto now = std::chrono::system_clock::now();
  auto& c = root.cert;
  CAF_CHECK(c.is_ca());
  CAF_CHECK(!c.path_len());
  CAF_CHECK(c.is_self_signed());
  CAF_CHECK(c.matches(root.key));
  CAF_CHECK(!c.matches(inter.key));
  CAF_CHECK_EQUAL(c.subject().common_name.value_or("-"), "root");
  CAF_CHECK_EQUAL(c.subject().organizations.size(), 1u);
  CAF_CHECK_EQUAL(c.subject_oneline(), "CN=root,O=istio-csr tests");
  CAF_CHECK_EQUAL(c.issuer_oneline(), c.subject_oneline());
  CAF_CHECK(c.key_usage()
            == (pki::key_usage::cert_sign | pki::key_usage::crl_sign
                | pki::key_usage::digital_signature));
  CAF_CHECK(c.ext_key_usages().empty());
  CAF_CHECK(c.not_before() < now && c.not_before() > now - 2h);
  CAF_CHECK(c.not_after() > now + 24h * 364);
  // A random 128-bit positive serial (top bit cleared).
  auto serial = c.serial_hex();
  CAF_CHECK(serial.size() > 16 && serial.size() <= 32);
  CAF_CHECK_NOT_EQUAL(serial, inter.cert.serial_hex());
  // No AKI on a self-signed certificate, SKI present; BasicConstraints
  // critical.
  bool ski = false, aki = false, bc_critical = false;
  for (auto& ext : c.extensions()) {
    ski |= ext.oid == pki::oid::subject_key_identifier;
    aki |= ext.oid == pki::oid::authority_key_identifier;
    if (ext.oid == pki::oid::basic_constraints)
      bc_critical = ext.critical;
  }
  CAF_CHECK(ski);
  CAF_CHECK(!aki);
  CAF_CHECK(bc_critical);
}

CAF_TEST(leaf certificates carry sans and usages) {
  auto& c = leaf.cert;
  CAF_CHECK(!c.is_ca());
  CAF_CHECK(c.sans() == all_sans());
  CAF_CHECK(
    c.key_usage()
    == (pki::key_usage::digital_signature | pki::key_usage::key_encipherment));
  CAF_CHECK_EQUAL(c.ext_key_usages(),
                  (std::vector<std::string>{s(pki::oid::client_auth),
                                            s(pki::oid::server_auth)}));
  CAF_CHECK(!c.subject().common_name);
  CAF_CHECK_EQUAL(c.issuer_oneline(), "CN=intermediate");
  // The subject is empty, so the SAN extension is critical (RFC 5280).
  for (auto& ext : c.extensions())
    if (ext.oid == pki::oid::subject_alt_name)
      CAF_CHECK(ext.critical);
  CAF_CHECK(c.public_key() == leaf.key.public_key());
}

CAF_TEST(issued by follows signatures not just names) {
  CAF_CHECK(leaf.cert.issued_by(inter.cert));
  CAF_CHECK(inter.cert.issued_by(root.cert));
  CAF_CHECK(!leaf.cert.issued_by(root.cert));
  CAF_CHECK(!root.cert.issued_by(inter.cert));
  // Same name, other key: the name matches, the signature does not.
  auto impostor = test::make_root("intermediate");
  CAF_CHECK(!leaf.cert.issued_by(impostor.cert));
  CAF_CHECK(!leaf.cert.is_self_signed());
}

CAF_TEST(only certificate authorities sign certificates like go) {
  CAF_CHECK(inter.cert.check_signature_from(root.cert));
  CAF_CHECK(root.cert.check_signature_from(root.cert));
  // A leaf's key makes a valid signature, but a leaf is no CA.
  pki::cert_template tmpl;
  tmpl.sans.dns = {"child.example"};
  auto key = test::ec_key();
  auto child = unwrap(pki::issue(tmpl, key.public_key(), leaf.cert, leaf.key));
  CAF_CHECK(!child.check_signature_from(leaf.cert));
  CAF_CHECK(!child.issued_by(leaf.cert));
  // A CA whose KeyUsage lacks keyCertSign cannot sign either.
  auto ca_key = test::ec_key();
  pki::cert_template ca;
  ca.subject.common_name = "no cert sign";
  ca.is_ca = true;
  ca.key_usage = pki::key_usage::digital_signature;
  auto weak = unwrap(pki::self_sign(ca, ca_key));
  auto weak_child = unwrap(pki::issue(tmpl, key.public_key(), weak, ca_key));
  CAF_CHECK(!weak_child.issued_by(weak));
  CAF_CHECK(!weak.is_self_signed());
  // Without a KeyUsage extension, CA:TRUE is enough.
  ca.key_usage = 0;
  auto plain = unwrap(pki::self_sign(ca, ca_key));
  auto plain_child = unwrap(pki::issue(tmpl, key.public_key(), plain, ca_key));
  CAF_CHECK(plain_child.issued_by(plain));
  CAF_CHECK(plain.is_self_signed());
}

CAF_TEST(pem and der round trips keep the certificate) {
  auto pem = leaf.cert.to_pem();
  CAF_CHECK(pem.starts_with("-----BEGIN CERTIFICATE-----\n"));
  auto back = unwrap(pki::certificate::from_pem(pem));
  CAF_CHECK(back == leaf.cert);
  CAF_CHECK_EQUAL(back.to_der(), leaf.cert.to_der());
  CAF_CHECK(!(back == inter.cert));
  CAF_CHECK_EQUAL(back.fingerprint_sha256().size(), 32u);
  // from_pem skips other blocks before the certificate.
  auto with_key = unwrap(pki::certificate::from_pem(leaf.key.to_pem() + pem));
  CAF_CHECK(with_key == leaf.cert);
  CAF_CHECK(!pki::certificate::from_pem(leaf.key.to_pem()));
  CAF_CHECK(!pki::certificate::from_der(leaf.cert.to_der() + "x"));
  CAF_CHECK(!pki::certificate::from_der("garbage"));
}

CAF_TEST(chains verify to the right root for the right purpose) {
  std::vector<pki::certificate> ints{inter.cert};
  std::vector<pki::certificate> roots{root.cert};
  using vp = pki::verify_purpose;
  CAF_CHECK(!pki::verify_chain(leaf.cert, ints, roots, vp::server_auth));
  CAF_CHECK(!pki::verify_chain(leaf.cert, ints, roots, vp::client_auth));
  CAF_CHECK(!pki::verify_chain(leaf.cert, ints, roots, vp::any));
  // Missing intermediate.
  auto err = pki::verify_chain(leaf.cert, {}, roots, vp::any);
  CAF_CHECK(err);
  CAF_MESSAGE("missing intermediate: " << errors::message(err));
  // Other root.
  auto other = test::make_root("root");
  CAF_CHECK(pki::verify_chain(leaf.cert, ints, {other.cert}, vp::any));
  CAF_CHECK(pki::verify_chain(leaf.cert, ints, {}, vp::any));
  // Expired at a later time, not valid yet at an earlier one.
  auto now = std::chrono::system_clock::now();
  CAF_CHECK(pki::verify_chain(leaf.cert, ints, roots, vp::any, now + 2h));
  CAF_CHECK(pki::verify_chain(leaf.cert, ints, roots, vp::any, now - 2h));
  // Like Go's pools, an intermediate in the roots is a trust anchor.
  CAF_CHECK(!pki::verify_chain(leaf.cert, {}, ints, vp::any));
  CAF_CHECK(!pki::verify_chain(leaf.cert, {}, ints, vp::client_or_server_auth));
  CAF_CHECK(!pki::verify_chain(leaf.cert, {}, ints, vp::server_auth));
}

CAF_TEST(extended key usages select the purposes that verify) {
  std::vector<pki::certificate> ints{inter.cert};
  std::vector<pki::certificate> roots{root.cert};
  using vp = pki::verify_purpose;
  auto server = test::make_leaf(inter, all_sans(), {s(pki::oid::server_auth)});
  auto client = test::make_leaf(inter, all_sans(), {s(pki::oid::client_auth)});
  auto code = test::make_leaf(inter, all_sans(), {s(pki::oid::code_signing)});
  CAF_CHECK(!pki::verify_chain(server.cert, ints, roots, vp::server_auth));
  CAF_CHECK(pki::verify_chain(server.cert, ints, roots, vp::client_auth));
  CAF_CHECK(
    !pki::verify_chain(server.cert, ints, roots, vp::client_or_server_auth));
  CAF_CHECK(!pki::verify_chain(client.cert, ints, roots, vp::client_auth));
  CAF_CHECK(pki::verify_chain(client.cert, ints, roots, vp::server_auth));
  CAF_CHECK(
    !pki::verify_chain(client.cert, ints, roots, vp::client_or_server_auth));
  CAF_CHECK(
    pki::verify_chain(code.cert, ints, roots, vp::client_or_server_auth));
  CAF_CHECK(!pki::verify_chain(code.cert, ints, roots, vp::any));
}

CAF_TEST(the openssl command line agrees) {
  test::temp_dir dir;
  auto root_pem = dir.write("root.pem", root.cert.to_pem());
  auto int_pem = dir.write("int.pem", inter.cert.to_pem());
  auto leaf_pem = dir.write("leaf.pem", leaf.cert.to_pem());
  auto ok
    = test::run({test::program("openssl"), "verify", "-CAfile", root_pem,
                 "-untrusted", int_pem, "-purpose", "sslserver", leaf_pem});
  CAF_CHECK_EQUAL(ok.exit_code, 0);
  CAF_CHECK_EQUAL(ok.out, leaf_pem + ": OK\n");
  auto other = test::make_root("root");
  auto other_pem = dir.write("other.pem", other.cert.to_pem());
  auto bad = test::run({test::program("openssl"), "verify", "-CAfile",
                        other_pem, "-untrusted", int_pem, leaf_pem});
  CAF_CHECK_NOT_EQUAL(bad.exit_code, 0);
  auto text = test::run({test::program("openssl"), "x509", "-in", leaf_pem,
                         "-noout", "-ext",
                         "subjectAltName,keyUsage,extendedKeyUsage,"
                         "basicConstraints"});
  CAF_CHECK_EQUAL(text.exit_code, 0);
  for (auto needle : {"DNS:svc.ns.svc", "IP Address:10.0.0.1",
                      "IP Address:FD00:0:0:0:0:0:0:1",
                      "URI:spiffe://cluster.local/ns/ns/sa/sa",
                      "email:ops@example.com", "Digital Signature",
                      "Key Encipherment", "TLS Web Client Authentication",
                      "TLS Web Server Authentication", "CA:FALSE"})
    if (text.out.find(needle) == std::string::npos)
      CAF_FAIL("openssl x509 output lacks " << needle << ":\n" << text.out);
  // And a key written by us is read by openssl.
  auto key_pem = dir.write("leaf.key", leaf.key.to_traditional_pem());
  auto key_check
    = test::run({test::program("openssl"), "pkey", "-in", key_pem, "-noout"});
  CAF_CHECK_EQUAL(key_check.exit_code, 0);
}

CAF_TEST(issuing needs the issuer key) {
  pki::cert_template tmpl;
  tmpl.subject.common_name = "x";
  auto res = pki::issue(tmpl, leaf.key.public_key(), inter.cert, root.key);
  CAF_CHECK(!res);
  tmpl.not_after = tmpl.not_before - 1s;
  CAF_CHECK(!pki::self_sign(tmpl, root.key));
}

CAF_TEST(rsa issuers sign ec leaves and the reverse) {
  auto rsa_root
    = test::make_root("rsa root", unwrap(pki::private_key::generate_rsa(2048)));
  auto ec_leaf = test::make_leaf(rsa_root, all_sans());
  CAF_CHECK(ec_leaf.cert.issued_by(rsa_root.cert));
  CAF_CHECK(!pki::verify_chain(ec_leaf.cert, {}, {rsa_root.cert},
                               pki::verify_purpose::server_auth));
}

CAF_TEST(issuing from a csr copies its subject and sans like cert manager) {
  auto key = test::ec_key();
  pki::csr_template req;
  req.sans.uris = {"spiffe://cluster.local/ns/a/sa/b"};
  req.sans.dns = {"a.b.svc"};
  auto request = unwrap(pki::make_csr(key, req));
  pki::cert_template tmpl;
  tmpl.sans.dns = {"ignored.example"};
  tmpl.key_usage = pki::key_usage::digital_signature;
  tmpl.ext_key_usages = {s(pki::oid::server_auth)};
  tmpl.not_after = tmpl.not_before + 30min;
  auto cert = unwrap(pki::issue_from_csr(request, tmpl, inter.cert, inter.key));
  CAF_CHECK(cert.sans() == req.sans);
  CAF_CHECK(cert.subject() == req.subject);
  CAF_CHECK(cert.public_key() == key.public_key());
  CAF_CHECK(cert.matches(key));
  CAF_CHECK(cert.issued_by(inter.cert));
  CAF_CHECK(cert.not_after() - cert.not_before() == 30min);
  CAF_CHECK_EQUAL(cert.ext_key_usages(),
                  std::vector<std::string>{s(pki::oid::server_auth)});
  // A CSR whose signature does not verify is refused.
  auto der = request.to_der();
  der[der.size() - 3] ^= 0x01;
  auto tampered = unwrap(pki::csr::from_der(der));
  CAF_CHECK(!pki::issue_from_csr(tampered, tmpl, inter.cert, inter.key));
}

CAF_TEST(issuing for a request copies its public key as it is) {
  for (auto key : {test::ec_key(), unwrap(pki::private_key::generate_ec(384)),
                   unwrap(pki::private_key::generate_rsa(2048))}) {
    pki::csr_template req;
    req.sans.uris = {"spiffe://cluster.local/ns/a/sa/b"};
    auto request = unwrap(pki::make_csr(key, req));
    CAF_CHECK_EQUAL(request.public_key_der(), key.public_key().to_der());
    pki::cert_template tmpl;
    tmpl.sans = req.sans;
    auto copied
      = unwrap(pki::issue_for_request(tmpl, request, inter.cert, inter.key));
    auto encoded
      = unwrap(pki::issue(tmpl, key.public_key(), inter.cert, inter.key));
    CAF_CHECK(copied.public_key() == key.public_key());
    CAF_CHECK(copied.matches(key));
    CAF_CHECK(copied.issued_by(inter.cert));
    CAF_CHECK_EQUAL(copied.public_key_der(), request.public_key_der());
    CAF_CHECK_EQUAL(copied.public_key_der(), encoded.public_key_der());
    CAF_CHECK_EQUAL(copied.public_key().to_der(), encoded.public_key_der());
    // The same SubjectKeyIdentifier as through the key.
    auto ski = [](const pki::certificate& cert) {
      for (auto& ext : cert.extensions())
        if (ext.oid == pki::oid::subject_key_identifier)
          return ext.value;
      return std::string{};
    };
    CAF_CHECK(!ski(copied).empty());
    CAF_CHECK_EQUAL(ski(copied), ski(encoded));
  }
}

CAF_TEST_FIXTURE_SCOPE_END()
