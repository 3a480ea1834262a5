#define CAF_SUITE signing.csr_policy

#include "caf/test/unit_test.hpp"

#include "actors/signing/policy/csr_policy.hpp"
#include "pki/crypto.hpp"
#include "pki/pem.hpp"
#include "signing/csr_gen.hpp"

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
  if (!res)
    return "accepted";
  CAF_MESSAGE(to_string(res->reason) << ": " << res->detail);
  return std::string{to_string(res->reason)};
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

// -- beyond upstream's unit tests: the rest of spec 2.5 -----------------------

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

CAF_TEST(the first pem block counts whatever its label) {
  auto der = unwrap(pki::first_pem_block(csr_with_ids(foo_bar))).der;
  CAF_CHECK_EQUAL(
    verdict(pki::pem_encode("NEW CERTIFICATE REQUEST", der), foo_bar),
    "accepted");
  CAF_CHECK_EQUAL(verdict("junk before\n" + pki::pem_encode("X", der), foo_bar),
                  "accepted");
  CAF_CHECK_EQUAL(verdict(pki::pem_encode("X", "y")
                            + pki::pem_encode("CERTIFICATE REQUEST", der),
                          foo_bar),
                  "malformed");
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
