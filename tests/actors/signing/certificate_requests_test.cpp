// The CertificateRequests the signer writes: the names it chooses and how a
// 409's object is recognised as the one it sent, as a real API server with
// cert-manager's webhook stores it (extra members, `isCA: false` dropped).

#define CAF_SUITE actors.certificate_requests

#include "caf/test/unit_test.hpp"

#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "actors/signing/certificate_requests.hpp"

namespace sg = istio_csr::actors::signing;
using json = nlohmann::json;

namespace {

json sent() {
  sg::cr_request req;
  req.name = "istio-csr-bcdfg";
  req.identities = "spiffe://cluster.local/ns/a/sa/b";
  req.csr_pem = "-----BEGIN CERTIFICATE REQUEST-----\n...";
  req.duration = std::chrono::hours{1};
  req.usages = {"client auth", "server auth"};
  req.issuer = {"istio-ca", "Issuer", "cert-manager.io"};
  return sg::make_cr(sg::cr_settings{}, req);
}

/// `x` as kube-apiserver v1.32 with cert-manager v1.12 stores it (observed):
/// the webhook's user fields, server metadata, `isCA: false` dropped.
json as_stored(json x) {
  x["metadata"]["uid"] = "0b6f1a52-9a0c-4d4e-9a57-5d1f5c1d2f3a";
  x["metadata"]["resourceVersion"] = "4711";
  x["metadata"]["creationTimestamp"] = "2026-12-07T05:30:00Z";
  x["spec"]["username"] = "system:serviceaccount:cert-manager:istio-csr";
  x["spec"]["uid"] = "6d3f";
  x["spec"]["groups"] = {"system:serviceaccounts", "system:authenticated"};
  x["spec"].erase("isCA");
  return x;
}

} // namespace

CAF_TEST(our names look as the server would generate them) {
  std::set<std::string> names;
  for (int i = 0; i < 1000; ++i) {
    auto name = sg::new_cr_name();
    CAF_REQUIRE_EQUAL(name.size(), 15u);
    CAF_REQUIRE_EQUAL(name.rfind("istio-csr-", 0), 0u);
    for (char c : name.substr(10))
      CAF_REQUIRE(std::string_view{"bcdfghjklmnpqrstvwxz2456789"}.find(c)
                  != std::string_view::npos);
    names.insert(name);
  }
  // 27^5 names: a thousand draws practically never repeat.
  CAF_CHECK_GREATER(names.size(), 995u);
}

CAF_TEST(the name is sent beside generateName) {
  auto cr = sent();
  CAF_CHECK_EQUAL(cr["metadata"]["name"], "istio-csr-bcdfg");
  CAF_CHECK_EQUAL(cr["metadata"]["generateName"], "istio-csr-");
  sg::cr_request unnamed;
  auto other = sg::make_cr(sg::cr_settings{}, unnamed);
  CAF_CHECK(!other["metadata"].contains("name"));
}

CAF_TEST(the stored object is recognised as the one sent) {
  CAF_CHECK(sg::is_same_request(sent(), sent()));
  CAF_CHECK(sg::is_same_request(sent(), as_stored(sent())));
}

CAF_TEST(any difference in what we sent makes it a strangers object) {
  auto changed = [](auto edit) {
    auto x = as_stored(sent());
    edit(x);
    return !sg::is_same_request(sent(), x);
  };
  CAF_CHECK(changed([](json& x) { x["spec"]["request"] = "b3RoZXI="; }));
  CAF_CHECK(changed([](json& x) { x["spec"]["isCA"] = true; }));
  CAF_CHECK(changed([](json& x) { x["spec"]["duration"] = "2h0m0s"; }));
  CAF_CHECK(changed([](json& x) { x["spec"]["usages"] = {"client auth"}; }));
  CAF_CHECK(changed([](json& x) { x["spec"]["issuerRef"]["name"] = "other"; }));
  CAF_CHECK(changed([](json& x) { x["spec"].erase("request"); }));
  CAF_CHECK(changed([](json& x) {
    x["metadata"]["annotations"]["istio.cert-manager.io/identities"]
      = "spiffe://cluster.local/ns/x/sa/y";
  }));
  CAF_CHECK(changed([](json& x) { x["metadata"].erase("labels"); }));
  CAF_CHECK(changed([](json& x) { x.erase("spec"); }));
}
