#define CAF_SUITE signing_api.spiffe

#include "caf/test/unit_test.hpp"

#include "caf/error.hpp"
#include "errors/describe.hpp"
#include "signing_api/spiffe.hpp"

using namespace istio_csr;
using namespace istio_csr::signing_api;

CAF_TEST(istio identities parse into trust domain namespace and account) {
  auto id
    = parse_spiffe_identity("spiffe://cluster.local/ns/default/sa/bookinfo");
  CAF_REQUIRE(id);
  CAF_CHECK_EQUAL(id->trust_domain, "cluster.local");
  CAF_CHECK_EQUAL(id->ns, "default");
  CAF_CHECK_EQUAL(id->service_account, "bookinfo");
}

CAF_TEST(node auth rejects identities that are not a spiffe format) {
  // node_auth_test: ID `spiffe://invalid` → "identity is not a spiffe format".
  for (auto text : {"spiffe://invalid", "", "spiffe://", "spiffe:/td/ns/a/sa/b",
                    "SPIFFE://td/ns/a/sa/b", "http://td/ns/a/sa/b",
                    "spiffe://td/ns/a/sa/b/c", "spiffe://td/ns/a/sa",
                    "spiffe://td/namespace/a/sa/b", "spiffe://td/ns/a/sb/b",
                    "spiffe://td/sa/a/ns/b", "spiffe://td//ns/a/sa/b"}) {
    auto id = parse_spiffe_identity(text);
    if (id)
      CAF_FAIL("accepted " << text);
    CAF_CHECK_EQUAL(errors::message(id.error()),
                    "identity is not a spiffe format");
  }
}

CAF_TEST(segments may be empty as in istio) {
  auto id = parse_spiffe_identity("spiffe:///ns//sa/");
  CAF_REQUIRE(id);
  CAF_CHECK(*id == (spiffe_identity{"", "", ""}));
  // The trust domain is not checked against anything here.
  auto other = parse_spiffe_identity("spiffe://other.domain/ns/x/sa/y");
  CAF_REQUIRE(other);
  CAF_CHECK_EQUAL(other->trust_domain, "other.domain");
}

CAF_TEST(identities are formatted with at signs replaced by dots) {
  auto id = format_spiffe_identity("cluster.local", "default", "bookinfo");
  CAF_REQUIRE(id);
  CAF_CHECK_EQUAL(*id, "spiffe://cluster.local/ns/default/sa/bookinfo");
  auto at = format_spiffe_identity("foo@bar.com", "a", "b");
  CAF_REQUIRE(at);
  CAF_CHECK_EQUAL(*at, "spiffe://foo.bar.com/ns/a/sa/b");
  CAF_CHECK(!format_spiffe_identity("td", "", "b"));
  CAF_CHECK(!format_spiffe_identity("td", "a", ""));
  // What we format, we parse back.
  auto back = parse_spiffe_identity(*id);
  CAF_REQUIRE(back);
  CAF_CHECK(*back == (spiffe_identity{"cluster.local", "default", "bookinfo"}));
}
