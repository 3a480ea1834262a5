#define CAF_SUITE signing.csr_policy

#include "caf/test/unit_test.hpp"

#include "actors/signing/policy/csr_policy.hpp"
#include "pki/crypto.hpp"
#include "pki/issue.hpp"
#include "pki/pem.hpp"
#include "tests/actors/signing/policy/csr_gen.hpp"
#include "tests/pki/crafted_csr.hpp"
#include "tests/pki/pem_texts.hpp"

using namespace istio_csr;
using namespace istio_csr::actors::signing::policy;
using istio_csr::test::csr_spec;
using istio_csr::test::csr_with_ids;
using istio_csr::test::make_csr_pem;
using istio_csr::test::unwrap;

namespace {

using strings = std::vector<std::string>;

const strings foo_bar{"spiffe://foo", "spiffe://bar"};

// The reason of a rejection, or "accepted".
std::string verdict(std::string_view pem, const strings& ids) {
  auto res = authorize_csr(pem, ids);
  auto* rejection = std::get_if<csr_rejection>(&res);
  if (rejection == nullptr)
    return "accepted";
  CAF_MESSAGE(to_string(rejection->reason) << ": " << rejection->detail);
  return std::string{to_string(rejection->reason)};
}

} // namespace

// -- auth_test.go TestIdentitiesMatch -----------------------------------------

CAF_TEST(identities match as upstream) {
  CAF_CHECK(identities_match({}, {}));
  CAF_CHECK(!identities_match({"spiffee://foo.bar"}, {}));
  CAF_CHECK(!identities_match({}, {"spiffe://foo.bar"}));
  CAF_CHECK(identities_match({"spiffe://foo.bar"}, {"spiffe://foo.bar"}));
  CAF_CHECK(!identities_match({"spiffe://123.456"}, {"spiffe://foo.bar"}));
  CAF_CHECK(identities_match({"spiffe://123.456", "spiffe://foo.bar"},
                             {"spiffe://123.456", "spiffe://foo.bar"}));
  CAF_CHECK(identities_match({"spiffe://123.456", "spiffe://foo.bar"},
                             {"spiffe://foo.bar", "spiffe://123.456"}));
  CAF_CHECK(!identities_match({"spiffe://123.456", "spiffe://foo.bar"},
                              {"spiffe://123.456", "spiffe://bar.foo"}));
  // Duplicates count: [a, a] is not [a, b].
  CAF_CHECK(!identities_match({"spiffe://a", "spiffe://a"},
                              {"spiffe://a", "spiffe://b"}));
}

// -- auth_test.go TestAuthRequest, the CSR cases ------------------------------

CAF_TEST(a csr that is not pem fails) {
  CAF_CHECK_EQUAL(verdict("bad csr", foo_bar), "malformed");
  CAF_CHECK_EQUAL(verdict("", foo_bar), "malformed");
  CAF_CHECK_EQUAL(
    verdict(pki::pem_encode("CERTIFICATE REQUEST", "garbage"), foo_bar),
    "malformed");
}

CAF_TEST(csrs with dns ip common name or email fail) {
  CAF_CHECK_EQUAL(verdict(make_csr_pem({.uris = foo_bar,
                                        .dns = {"example.com", "jetstack.io"}}),
                          foo_bar),
                  "forbidden_names");
  CAF_CHECK_EQUAL(
    verdict(make_csr_pem({.uris = foo_bar, .ips = {"8.8.8.8"}}), foo_bar),
    "forbidden_names");
  csr_spec cn{.uris = foo_bar};
  cn.common_name = "jetstack.io";
  CAF_CHECK_EQUAL(verdict(make_csr_pem(cn), foo_bar), "forbidden_names");
  CAF_CHECK_EQUAL(
    verdict(make_csr_pem(
              {.uris = foo_bar, .emails = {"joshua.vanleeuwen@jetstack.io"}}),
            foo_bar),
    "forbidden_names");
}

CAF_TEST(csr identities must be exactly the callers identities) {
  CAF_CHECK_EQUAL(
    verdict(csr_with_ids({"spiffe://josh", "spiffe://bar"}), foo_bar),
    "identity_mismatch");
  CAF_CHECK_EQUAL(verdict(csr_with_ids({"spiffe://bar"}), foo_bar),
                  "identity_mismatch");
  CAF_CHECK_EQUAL(verdict(csr_with_ids({"spiffe://foo", "spiffe://bar",
                                        "spiffe://joshua.vanleeuwen"}),
                          foo_bar),
                  "identity_mismatch");
  CAF_CHECK_EQUAL(verdict(csr_with_ids(foo_bar), foo_bar), "accepted");
  CAF_CHECK_EQUAL(
    verdict(csr_with_ids({"spiffe://bar", "spiffe://foo"}), foo_bar),
    "accepted");
  CAF_CHECK_EQUAL(verdict(csr_with_ids({"spiffe://foo"}), {"spiffe://foo"}),
                  "accepted");
  // No URI at all.
  CAF_CHECK_EQUAL(verdict(csr_with_ids({}), {"spiffe://foo"}),
                  "identity_mismatch");
}

CAF_TEST(impersonation needs the csr to carry exactly the target identity) {
  // TestAuthRequestImpersonation: the caller passes [impersonated identity].
  const std::string target = "spiffe://cluster.local/ns/ns-a/sa/sa-a";
  const std::string ztunnel
    = "spiffe://cluster.local/ns/istio-system/sa/ztunnel";
  CAF_CHECK_EQUAL(verdict(csr_with_ids({target}), {target}), "accepted");
  CAF_CHECK_EQUAL(verdict(csr_with_ids({ztunnel}), {target}),
                  "identity_mismatch");
  CAF_CHECK_EQUAL(verdict(csr_with_ids({target, ztunnel}), {target}),
                  "identity_mismatch");
}

// -- beyond upstream's unit tests: the rest of docs/upstream.md §2.5 ----------

CAF_TEST(a csr with a broken signature fails) {
  auto pem = csr_with_ids(foo_bar);
  auto der = unwrap(pki::first_pem_block(pem)).der;
  // Flip a bit in the signed URI "spiffe://foo" → "spiffe://fno".
  auto pos = der.find("spiffe://foo");
  CAF_REQUIRE(pos != std::string::npos);
  der[pos + 10] = 'n';
  auto tampered = pki::pem_encode("CERTIFICATE REQUEST", der);
  CAF_CHECK_EQUAL(verdict(tampered, {"spiffe://fno", "spiffe://bar"}),
                  "bad_signature");
  CAF_CHECK_EQUAL(verdict(pem, foo_bar), "accepted");
}

CAF_TEST(only one canonical certificate request block is accepted) {
  // Upstream takes the first PEM block of any label, whatever surrounds it;
  // we refuse all that (docs/compatibility.md).
  auto der = unwrap(pki::first_pem_block(csr_with_ids(foo_bar))).der;
  auto pem = pki::pem_encode("CERTIFICATE REQUEST", der);
  CAF_CHECK_EQUAL(verdict(pem, foo_bar), "accepted");
  CAF_CHECK_EQUAL(verdict("\n" + pem + "\r\n", foo_bar), "accepted");
  CAF_CHECK_EQUAL(
    verdict(pki::pem_encode("NEW CERTIFICATE REQUEST", der), foo_bar),
    "malformed");
  CAF_CHECK_EQUAL(verdict("junk before\n" + pem, foo_bar), "malformed");
  CAF_CHECK_EQUAL(verdict(pem + pem, foo_bar), "malformed");
  CAF_CHECK_EQUAL(verdict(pki::pem_encode("X", "y")
                            + pki::pem_encode("CERTIFICATE REQUEST", der),
                          foo_bar),
                  "malformed");
  // Larger than max_csr_pem_bytes, even if what follows is white space.
  CAF_CHECK_EQUAL(verdict(pem + std::string(max_csr_pem_bytes, '\n'), foo_bar),
                  "malformed");
}

CAF_TEST(what is approved is exactly the checked der) {
  auto key = test::ec_key();
  pki::csr_template tmpl;
  tmpl.sans.uris = foo_bar;
  auto req = unwrap(pki::make_csr(key, tmpl));
  auto text = "\r\n"
              + test::pem_block_text("CERTIFICATE REQUEST",
                                     pki::base64_encode(req.to_der()), "\r\n",
                                     " ", "\t");
  auto res = authorize_csr(text, foo_bar);
  auto* ok = std::get_if<approved_csr>(&res);
  CAF_REQUIRE(ok != nullptr);
  CAF_CHECK_EQUAL(ok->der, req.to_der());
  CAF_CHECK_EQUAL(ok->public_key_der, key.public_key().to_der());
  CAF_CHECK_EQUAL(ok->identities, foo_bar);
  // What goes to cert-manager: our canonical PEM, not the caller's text.
  CAF_CHECK_EQUAL(ok->pem(), req.to_pem());
  CAF_CHECK_EQUAL(unwrap(pki::first_pem_block(ok->pem())).der, req.to_der());
}

// -- the CSR-confusion attack (docs/security.md) ------------------------------

CAF_TEST(smuggled csrs of another identity are refused) {
  const std::string attacker = "spiffe://cluster.local/ns/attacker/sa/attacker";
  const std::string istiod = "spiffe://cluster.local/ns/istio-system/sa/istiod";
  auto own = unwrap(pki::first_pem_block(csr_with_ids({attacker}))).der;
  std::string victim;
  do {
    victim = unwrap(pki::first_pem_block(csr_with_ids({istiod}))).der;
  } while (victim.size() % 3 == 0);
  auto texts = test::make_smuggling_texts(own, victim);
  for (const auto& text :
       {texts.begin_line_cr, texts.end_line_cr, texts.trailing_bits}) {
    // cert-manager (Go) would sign istiod's CSR from this text...
    auto go = unwrap(pki::csr::from_pem(text));
    CAF_CHECK_EQUAL(unwrap(go.sans()).uris, std::vector<std::string>{istiod});
    // ...so the agent must not accept it for the attacker.
    CAF_CHECK_EQUAL(verdict(text, {attacker}), "malformed");
  }
}

CAF_TEST(every extension request attribute counts) {
  const std::string attacker = "spiffe://cluster.local/ns/attacker/sa/attacker";
  const std::string istiod = "spiffe://cluster.local/ns/istio-system/sa/istiod";
  auto key = test::ec_key();
  auto ext_req = [](std::vector<pki::x509_extension> exts) {
    return test::raw_attribute{std::string{test::extension_request_oid},
                               {test::der_extensions(exts)}};
  };
  auto ca = pki::x509_extension{std::string{pki::oid::basic_constraints}, true,
                                pki::encode_basic_constraints(true)};
  auto outcome = [&](const std::vector<test::raw_attribute>& attrs) {
    return verdict(test::crafted_csr(key, attrs).to_pem(), {attacker});
  };
  // Sanity: one extension request with the SAN passes.
  CAF_CHECK_EQUAL(outcome({ext_req({test::uri_san({attacker})})}), "accepted");
  // A second extensionRequest asking for a CA: Go merges both.
  {
    auto two = test::crafted_csr(
      key, {ext_req({test::uri_san({attacker})}), ext_req({ca})});
    auto go = unwrap(two.go_extensions());
    CAF_CHECK_EQUAL(go.size(), 2u);
    CAF_CHECK_EQUAL(verdict(two.to_pem(), {attacker}), "malformed");
  }
  // Duplicate SANs: Go keeps the last one.
  {
    auto dup = test::crafted_csr(
      key, {ext_req({test::uri_san({attacker}), test::uri_san({istiod})})});
    CAF_CHECK_EQUAL(unwrap(dup.sans()).uris, std::vector<std::string>{istiod});
    CAF_CHECK_EQUAL(verdict(dup.to_pem(), {attacker}), "malformed");
  }
  // A SAN only in Microsoft's extension-request attribute (OpenSSL reads it,
  // Go does not).
  CAF_CHECK_EQUAL(
    outcome({{std::string{test::ms_extension_request_oid},
              {test::der_extensions({test::uri_san({attacker})})}}}),
    "malformed");
  // Unknown attribute types, a second value, an empty one.
  CAF_CHECK_EQUAL(outcome({ext_req({test::uri_san({attacker})}),
                           {std::string{test::challenge_password_oid},
                            {test::der_tlv(0x0c, "secret")}}}),
                  "malformed");
  CAF_CHECK_EQUAL(outcome({{std::string{test::extension_request_oid},
                            {test::der_extensions({test::uri_san({attacker})}),
                             test::der_extensions({ca})}}}),
                  "malformed");
  CAF_CHECK_EQUAL(outcome({{std::string{test::extension_request_oid}, {}}}),
                  "malformed");
  // An unknown extension in the one extension request: forbidden.
  CAF_CHECK_EQUAL(
    outcome({ext_req({test::uri_san({attacker}),
                      {"1.2.3.4", false, test::der_tlv(0x05, "")}})}),
    "forbidden_extensions");
  CAF_CHECK_EQUAL(outcome({ext_req({test::uri_san({attacker}), ca})}),
                  "forbidden_extensions");
}

CAF_TEST(a common name anywhere in the subject is refused) {
  // Go reads the last CN; an empty first one must not hide a second.
  auto key = test::ec_key();
  pki::csr_template tmpl;
  tmpl.sans.uris = foo_bar;
  auto req = unwrap(pki::make_csr(key, tmpl));
  CAF_CHECK(!req.has_common_name());
  tmpl.subject.common_name = "";
  CAF_CHECK(!unwrap(pki::make_csr(key, tmpl)).has_common_name());
  tmpl.subject.common_name = "evil";
  CAF_CHECK(unwrap(pki::make_csr(key, tmpl)).has_common_name());
}

CAF_TEST(an issued leaf must match the approved request) {
  auto root = test::make_root("root");
  const std::string id = "spiffe://cluster.local/ns/a/sa/b";
  auto good_key = test::ec_key();
  pki::csr_template tmpl;
  tmpl.sans.uris = {id};
  auto res
    = authorize_csr(unwrap(pki::make_csr(good_key, tmpl)).to_pem(), {id});
  auto* approved = std::get_if<approved_csr>(&res);
  CAF_REQUIRE(approved != nullptr);
  auto issue = [&](const pki::private_key& key, pki::subject_alt_names sans,
                   bool is_ca = false) {
    pki::cert_template t;
    t.sans = std::move(sans);
    t.is_ca = is_ca;
    return unwrap(pki::issue(t, key.public_key(), root.cert, root.key));
  };
  pki::subject_alt_names uri_only;
  uri_only.uris = {id};
  CAF_CHECK(!check_issued_leaf(issue(good_key, uri_only), *approved));
  // Another key, another identity, an added name, a CA: refused.
  CAF_CHECK(check_issued_leaf(issue(test::ec_key(), uri_only), *approved));
  pki::subject_alt_names other = uri_only;
  other.uris = {"spiffe://cluster.local/ns/istio-system/sa/istiod"};
  CAF_CHECK(check_issued_leaf(issue(good_key, other), *approved));
  pki::subject_alt_names two = uri_only;
  two.uris.push_back("spiffe://cluster.local/ns/istio-system/sa/istiod");
  CAF_CHECK(check_issued_leaf(issue(good_key, two), *approved));
  pki::subject_alt_names dns = uri_only;
  dns.dns = {"istiod.istio-system.svc"};
  CAF_CHECK(check_issued_leaf(issue(good_key, dns), *approved));
  auto why = check_issued_leaf(issue(good_key, uri_only, true), *approved);
  CAF_REQUIRE(why);
  CAF_CHECK_NOT_EQUAL(why->find("CA"), std::string::npos);
}

CAF_TEST(other subject attributes and an empty common name are allowed) {
  pki::csr_template tmpl;
  tmpl.subject.organizations = {"org"};
  tmpl.subject.organizational_units = {"unit"};
  tmpl.subject.common_name = "";
  tmpl.sans.uris = foo_bar;
  auto pem = unwrap(pki::make_csr(test::ec_key(), tmpl)).to_pem();
  // Go checks len(CommonName) > 0, so an empty CN passes.
  CAF_CHECK_EQUAL(verdict(pem, foo_bar), "accepted");
}

CAF_TEST(extensions outside the allow list fail) {
  auto bc = pki::encode_basic_constraints(false);
  CAF_CHECK_EQUAL(
    verdict(make_csr_pem({.uris = foo_bar,
                          .extra = {{std::string{pki::oid::basic_constraints},
                                     true, bc}}}),
            foo_bar),
    "forbidden_extensions");
  CAF_CHECK_EQUAL(
    verdict(
      make_csr_pem({.uris = foo_bar,
                    .extra = {{std::string{pki::oid::subject_key_identifier},
                               false, std::string("\x04\x01\x01", 3)}}}),
      foo_bar),
    "forbidden_extensions");
  // Allowed usages pass; a forbidden key usage or EKU fails.
  auto ds_ke = test::go_key_usage_value(test::go_ku::digital_signature
                                        | test::go_ku::key_encipherment);
  auto ekus = unwrap(pki::encode_ext_key_usage(
    {std::string{pki::oid::client_auth}, std::string{pki::oid::server_auth}}));
  CAF_CHECK_EQUAL(
    verdict(make_csr_pem(
              {.uris = foo_bar,
               .extra = {{std::string{pki::oid::key_usage}, true, ds_ke},
                         {std::string{pki::oid::ext_key_usage}, false, ekus}}}),
            foo_bar),
    "accepted");
  auto cert_sign = test::go_key_usage_value(test::go_ku::cert_sign);
  CAF_CHECK_EQUAL(
    verdict(make_csr_pem(
              {.uris = foo_bar,
               .extra = {{std::string{pki::oid::key_usage}, true, cert_sign}}}),
            foo_bar),
    "forbidden_extensions");
  auto code
    = unwrap(pki::encode_ext_key_usage({std::string{pki::oid::code_signing}}));
  CAF_CHECK_EQUAL(
    verdict(make_csr_pem(
              {.uris = foo_bar,
               .extra = {{std::string{pki::oid::ext_key_usage}, false, code}}}),
            foo_bar),
    "forbidden_extensions");
}

CAF_TEST(rejections have readable names) {
  CAF_CHECK_EQUAL(to_string(csr_reason::malformed), "malformed");
  CAF_CHECK_EQUAL(to_string(csr_reason::bad_signature), "bad_signature");
  CAF_CHECK_EQUAL(to_string(csr_reason::forbidden_names), "forbidden_names");
  CAF_CHECK_EQUAL(to_string(csr_reason::forbidden_extensions),
                  "forbidden_extensions");
  CAF_CHECK_EQUAL(to_string(csr_reason::identity_mismatch),
                  "identity_mismatch");
}
