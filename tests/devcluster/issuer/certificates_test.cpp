#define CAF_SUITE devcluster_issuer.certificates

#include "caf/test/unit_test.hpp"

#include "kube/api/base64.hpp"
#include "kube/api/time.hpp"
#include "tests/devcluster/issuer/fixture.hpp"

using namespace istio_csr;
using namespace istio_csr::test;
using namespace istio_csr::test::issuer;

namespace {

json make_certificate(const std::string& ns, const std::string& name,
                      const std::string& issuer, const json& key) {
  return json{
    {"apiVersion", "cert-manager.io/v1"},
    {"kind", "Certificate"},
    {"metadata", {{"name", name}, {"namespace", ns}}},
    {"spec",
     {{"commonName", "istiod." + ns + ".svc"},
      {"dnsNames", {"istiod." + ns + ".svc", "istiod-canary." + ns + ".svc"}},
      {"uris", {"spiffe://cluster.local/ns/" + ns + "/sa/istiod"}},
      {"secretName", "istiod-tls"},
      {"duration", "2h"},
      {"renewBefore", "1h"},
      {"privateKey", key},
      {"revisionHistoryLimit", 1},
      {"issuerRef",
       {{"name", issuer}, {"kind", "Issuer"}, {"group", "cert-manager.io"}}}}}};
}

std::string data(const json& secret, const std::string& key) {
  auto i = secret["data"].find(key);
  if (i == secret["data"].end())
    return {};
  return kube::base64_decode(i->get<std::string>()).value_or("");
}

int64_t revision(const json& crt) {
  return crt.contains("status") ? crt["status"].value("revision", int64_t{0})
                                : 0;
}

} // namespace

CAF_TEST(a Certificate gets its Secret and is issued again on issuer change) {
  CAF_REQUIRE(cluster() != nullptr);
  auto ns = make_namespace("certificate");
  auto root_a = make_root("root a");
  auto root_b = make_root("root b");
  create(make_tls_secret(ns, "ca-a", root_a.cert.to_pem(), root_a.key.to_pem(),
                         root_a.cert.to_pem()));
  create(make_tls_secret(ns, "ca-b", root_b.cert.to_pem(), root_b.key.to_pem(),
                         root_b.cert.to_pem()));
  create(make_ca_issuer(ns, "a", "ca-a"));
  create(make_ca_issuer(ns, "b", "ca-b"));
  create(make_certificate(
    ns, "istiod", "a",
    {{"rotationPolicy", "Always"}, {"algorithm", "ECDSA"}, {"size", 256}}));
  auto [crt, ok] = wait_for("certificate", ns, "istiod", [](auto& o) {
    return has_condition(o, "Ready", "True") && revision(o) == 1;
  });
  CAF_REQUIRE(ok);
  auto secret = get("secret", ns, "istiod-tls");
  CAF_REQUIRE(secret);
  auto type = secret->value("type", "");
  CAF_CHECK_EQUAL(type, "kubernetes.io/tls");
  auto chain = certs_of(data(*secret, "tls.crt"));
  auto key = pki::private_key::from_pem(data(*secret, "tls.key"));
  CAF_REQUIRE(key);
  CAF_REQUIRE(!chain.empty());
  CAF_CHECK(chain[0].matches(*key));
  CAF_CHECK(key->algorithm() == pki::key_algorithm::ec);
  CAF_CHECK(chain[0].issued_by(root_a.cert));
  auto ca_crt = data(*secret, "ca.crt");
  auto root_a_pem = root_a.cert.to_pem();
  CAF_CHECK_EQUAL(ca_crt, root_a_pem);
  auto cn = chain[0].subject().common_name.value_or("");
  CAF_CHECK_EQUAL(cn, "istiod." + ns + ".svc");
  auto sans = chain[0].sans();
  std::vector<std::string> dns{"istiod." + ns + ".svc",
                               "istiod-canary." + ns + ".svc"};
  CAF_CHECK_EQUAL(sans.dns, dns);
  CAF_CHECK_EQUAL(sans.uris.size(), 1u);
  auto life = lifetime_seconds(chain[0]);
  CAF_CHECK_EQUAL(life, 7200);
  // Status: notBefore/notAfter/renewalTime (1h before the end).
  auto not_after = kube::parse_time(crt->at("status").value("notAfter", ""));
  auto renewal = kube::parse_time(crt->at("status").value("renewalTime", ""));
  CAF_REQUIRE(not_after && renewal);
  auto before
    = std::chrono::duration_cast<std::chrono::seconds>(*not_after - *renewal);
  CAF_CHECK_EQUAL(before.count(), 3600);
  auto [code, output]
    = openssl_verify(chain[0].to_pem(), {}, data(*secret, "ca.crt"));
  CAF_CHECK_EQUAL(code, 0);
  CAF_MESSAGE("openssl verify: " << output);
  // The request of revision 1: owned by the Certificate, annotated.
  auto cr = get("certificaterequest", ns, "istiod-1");
  CAF_REQUIRE(cr);
  auto owner = cr->at("metadata")["ownerReferences"][0];
  CAF_CHECK_EQUAL(owner.value("kind", ""), "Certificate");
  CAF_CHECK_EQUAL(owner.value("uid", ""), crt->at("metadata").value("uid", ""));
  auto annotated = cr->at("metadata")["annotations"].value(
    "cert-manager.io/certificate-name", "");
  CAF_CHECK_EQUAL(annotated, "istiod");

  // Switch the issuer (and the key to RSA): a new certificate from b.
  kubectl({"patch", "certificate", "istiod", "-n", ns, "--type", "merge", "-p",
           R"({"spec":{"issuerRef":{"name":"b"},)"
           R"("privateKey":{"algorithm":"RSA","size":2048}}})"});
  auto [crt2, ok2] = wait_for("certificate", ns, "istiod", [](auto& o) {
    return has_condition(o, "Ready", "True") && revision(o) == 2;
  });
  CAF_REQUIRE(ok2);
  auto secret2 = get("secret", ns, "istiod-tls");
  CAF_REQUIRE(secret2);
  auto chain2 = certs_of(data(*secret2, "tls.crt"));
  auto key2 = pki::private_key::from_pem(data(*secret2, "tls.key"));
  CAF_REQUIRE(key2);
  CAF_REQUIRE(!chain2.empty());
  CAF_CHECK(chain2[0].matches(*key2));
  CAF_CHECK(key2->algorithm() == pki::key_algorithm::rsa);
  CAF_CHECK(chain2[0].issued_by(root_b.cert));
  auto root_b_pem = root_b.cert.to_pem();
  auto ca_crt2 = data(*secret2, "ca.crt");
  CAF_CHECK_EQUAL(ca_crt2, root_b_pem);
  // revisionHistoryLimit 1: the first request is gone.
  CAF_CHECK(wait_until(
    [&] { return !get("certificaterequest", ns, "istiod-1").has_value(); },
    std::chrono::seconds{30}, std::chrono::milliseconds{100}));
  CAF_CHECK(get("certificaterequest", ns, "istiod-2").has_value());
  // No next-private-key Secret is left behind.
  CAF_CHECK(wait_until(
    [&] {
      auto out
        = kubectl({"get", "secrets", "-n", ns, "-l",
                   "cert-manager.io/next-private-key=true", "-o", "name"});
      return out.empty();
    },
    std::chrono::seconds{30}, std::chrono::milliseconds{100}));
}

CAF_TEST(a deleted Secret is issued again) {
  CAF_REQUIRE(cluster() != nullptr);
  auto ns = make_namespace("certificate-secret");
  auto root = make_root("root");
  create(make_tls_secret(ns, "ca", root.cert.to_pem(), root.key.to_pem(),
                         root.cert.to_pem()));
  create(make_ca_issuer(ns, "ca", "ca"));
  create(make_certificate(ns, "istiod", "ca", {{"algorithm", "ECDSA"}}));
  auto [crt, ok] = wait_for("certificate", ns, "istiod", [](auto& o) {
    return has_condition(o, "Ready", "True") && revision(o) == 1;
  });
  CAF_REQUIRE(ok);
  kubectl({"delete", "secret", "istiod-tls", "-n", ns});
  auto [crt2, ok2] = wait_for("certificate", ns, "istiod", [](auto& o) {
    return has_condition(o, "Ready", "True") && revision(o) == 2;
  });
  CAF_REQUIRE(ok2);
  auto secret = get("secret", ns, "istiod-tls");
  CAF_REQUIRE(secret);
  auto chain = certs_of(data(*secret, "tls.crt"));
  auto key = pki::private_key::from_pem(data(*secret, "tls.key"));
  CAF_REQUIRE(key && !chain.empty());
  CAF_CHECK(chain[0].matches(*key));
}

CAF_TEST(a Certificate is renewed at its renewal time) {
  CAF_REQUIRE(cluster() != nullptr);
  auto ns = make_namespace("certificate-renewal");
  auto root = make_root("root");
  create(make_tls_secret(ns, "ca", root.cert.to_pem(), root.key.to_pem(),
                         root.cert.to_pem()));
  create(make_ca_issuer(ns, "ca", "ca"));
  // Valid for 10 s, renewed 6 s before the end: 4 s after issuance.
  auto spec = make_certificate(ns, "short", "ca", {{"algorithm", "ECDSA"}});
  spec["spec"]["duration"] = "10s";
  spec["spec"]["renewBefore"] = "6s";
  create(spec);
  auto [crt, ok] = wait_for("certificate", ns, "short", [](auto& o) {
    return has_condition(o, "Ready", "True") && revision(o) == 1;
  });
  CAF_REQUIRE(ok);
  auto first = get("secret", ns, "istiod-tls");
  CAF_REQUIRE(first);
  auto first_pem = data(*first, "tls.crt");
  auto renewal = kube::parse_time(crt->at("status").value("renewalTime", ""));
  auto not_before = kube::parse_time(crt->at("status").value("notBefore", ""));
  CAF_REQUIRE(renewal && not_before);
  auto after
    = std::chrono::duration_cast<std::chrono::seconds>(*renewal - *not_before);
  CAF_CHECK_EQUAL(after.count(), 4);
  auto [crt2, ok2] = wait_for(
    "certificate", ns, "short", [](auto& o) { return revision(o) >= 2; },
    std::chrono::seconds{30});
  CAF_REQUIRE(ok2);
  auto second = get("secret", ns, "istiod-tls");
  CAF_REQUIRE(second);
  auto second_pem = data(*second, "tls.crt");
  CAF_CHECK_NOT_EQUAL(first_pem, second_pem);
  // Renewed, not issued early: not before the scheduled time.
  auto chain = certs_of(second_pem);
  CAF_REQUIRE(!chain.empty());
  CAF_CHECK(chain[0].not_before() >= *renewal);
}
