#define CAF_SUITE devcluster_issuer.requests

#include "caf/test/unit_test.hpp"

#include "kube/api/base64.hpp"
#include "pki/extensions.hpp"
#include "pki/issue.hpp"
#include "pki/pem.hpp"
#include "tests/devcluster/issuer/fixture.hpp"

using namespace istio_csr;
using namespace istio_csr::test;
using namespace istio_csr::test::issuer;

namespace {

bool ready(const json& cr) {
  return has_condition(cr, "Ready", "True");
}

bool settled(const json& cr) {
  return condition(cr, "Ready").is_object();
}

pki::private_key ec_key() {
  auto key = pki::private_key::generate_ec(256);
  CAF_REQUIRE(key);
  return *key;
}

} // namespace

CAF_TEST(bootstrap issuer is ready) {
  CAF_REQUIRE(cluster() != nullptr);
  auto [iss, ok] = wait_for("issuer", "istio-system", "istio-ca", [](auto& o) {
    return has_condition(o, "Ready", "True");
  });
  CAF_REQUIRE(ok);
  auto cond = condition(*iss, "Ready");
  auto reason = cond.value("reason", "");
  CAF_CHECK_EQUAL(reason, "KeyPairVerified");
}

CAF_TEST(a CSR is signed by the bootstrap issuer) {
  CAF_REQUIRE(cluster() != nullptr);
  auto key = ec_key();
  auto uri = "spiffe://cluster.local/ns/sample/sa/sleep";
  auto csr = make_csr_pem(key, {uri});
  auto name = test_cluster::unique_name("signed");
  create(make_request("istio-system", name, csr, "istio-ca", "Issuer",
                      {"client auth", "server auth"}, "1h"));
  auto [cr, ok] = wait_for("certificaterequest", "istio-system", name, ready);
  CAF_REQUIRE(ok);
  auto approved = condition(*cr, "Approved");
  CAF_CHECK_EQUAL(approved.value("status", ""), "True");
  CAF_CHECK_EQUAL(approved.value("reason", ""), "cert-manager.io");
  auto issued = condition(*cr, "Ready");
  CAF_CHECK_EQUAL(issued.value("reason", ""), "Issued");
  auto chain = certs_of(status_pem(*cr, "certificate"));
  auto ca_pem = status_pem(*cr, "ca");
  // A root CA issuer: the leaf alone, the root as CA.
  CAF_REQUIRE_EQUAL(chain.size(), 1u);
  auto& leaf = chain.front();
  CAF_CHECK(leaf.matches(key));
  auto sans = leaf.sans();
  CAF_REQUIRE_EQUAL(sans.uris.size(), 1u);
  CAF_CHECK_EQUAL(sans.uris.front(), uri);
  auto ekus = leaf.ext_key_usages();
  std::vector<std::string> expected_ekus{std::string{pki::oid::client_auth},
                                         std::string{pki::oid::server_auth}};
  CAF_CHECK_EQUAL(ekus, expected_ekus);
  // cert-manager: no KeyUsage bits when only extended usages are asked for.
  CAF_CHECK(!leaf.key_usage().has_value());
  CAF_CHECK(!leaf.is_ca());
  auto life = lifetime_seconds(leaf);
  CAF_CHECK_EQUAL(life, 3600);
  // status.ca is the Secret's ca.crt.
  auto secret = get("secret", "istio-system", "istio-ca");
  CAF_REQUIRE(secret);
  auto ca_crt
    = kube::base64_decode((*secret)["data"]["ca.crt"].get<std::string>());
  CAF_REQUIRE(ca_crt);
  CAF_CHECK_EQUAL(ca_pem, *ca_crt);
  auto [code, output] = openssl_verify(leaf.to_pem(), {}, ca_pem);
  CAF_CHECK_EQUAL(code, 0);
  CAF_MESSAGE("openssl verify: " << output);
}

CAF_TEST(default usages and duration and isCA) {
  CAF_REQUIRE(cluster() != nullptr);
  auto key = ec_key();
  auto name = test_cluster::unique_name("defaults");
  create(make_request("istio-system", name,
                      make_csr_pem(key, {}, {"a.example.com"}), "istio-ca"));
  auto ca_name = test_cluster::unique_name("isca");
  create(make_request("istio-system", ca_name,
                      make_csr_pem(key, {}, {"ca.example.com"}), "istio-ca",
                      "Issuer", {}, "2h", true));
  auto [cr, ok] = wait_for("certificaterequest", "istio-system", name, ready);
  CAF_REQUIRE(ok);
  auto chain = certs_of(status_pem(*cr, "certificate"));
  CAF_REQUIRE(!chain.empty());
  auto ku = chain.front().key_usage();
  CAF_REQUIRE(ku.has_value());
  unsigned expected_ku
    = pki::key_usage::digital_signature | pki::key_usage::key_encipherment;
  CAF_CHECK_EQUAL(*ku, expected_ku);
  CAF_CHECK(chain.front().ext_key_usages().empty());
  auto life = lifetime_seconds(chain.front());
  CAF_CHECK_EQUAL(life, 90 * 24 * 3600);
  auto dns = chain.front().sans().dns;
  CAF_CHECK_EQUAL(dns, std::vector<std::string>{"a.example.com"});
  auto [ca_cr, ca_ok]
    = wait_for("certificaterequest", "istio-system", ca_name, ready);
  CAF_REQUIRE(ca_ok);
  auto ca_chain = certs_of(status_pem(*ca_cr, "certificate"));
  CAF_REQUIRE(!ca_chain.empty());
  CAF_CHECK(ca_chain.front().is_ca());
  auto ca_ku = ca_chain.front().key_usage().value_or(0);
  CAF_CHECK((ca_ku & pki::key_usage::cert_sign) != 0);
  auto ca_life = lifetime_seconds(ca_chain.front());
  CAF_CHECK_EQUAL(ca_life, 7200);
}

CAF_TEST(an intermediate CA issuer returns leaf and intermediate) {
  CAF_REQUIRE(cluster() != nullptr);
  auto ns = make_namespace("intermediate");
  auto root = make_root("test root");
  auto inter = make_intermediate("test intermediate", root);
  create(make_tls_secret(ns, "inter-ca", inter.cert.to_pem(),
                         inter.key.to_pem(), root.cert.to_pem()));
  create(make_ca_issuer(ns, "inter", "inter-ca"));
  auto key = ec_key();
  auto uri = "spiffe://cluster.local/ns/" + ns + "/sa/app";
  create(make_request(ns, "leaf", make_csr_pem(key, {uri}), "inter", "Issuer",
                      {"client auth", "server auth"}, "30m"));
  auto [cr, ok] = wait_for("certificaterequest", ns, "leaf", ready);
  CAF_REQUIRE(ok);
  auto chain = certs_of(status_pem(*cr, "certificate"));
  CAF_REQUIRE_EQUAL(chain.size(), 2u);
  CAF_CHECK(chain[0].matches(key));
  CAF_CHECK(chain[1] == inter.cert);
  CAF_CHECK(chain[0].issued_by(inter.cert));
  auto ca = certs_of(status_pem(*cr, "ca"));
  CAF_REQUIRE_EQUAL(ca.size(), 1u);
  CAF_CHECK(ca[0] == root.cert);
  auto [code, output]
    = openssl_verify(chain[0].to_pem(), chain[1].to_pem(), root.cert.to_pem());
  CAF_CHECK_EQUAL(code, 0);
  CAF_MESSAGE("openssl verify: " << output);
  // Without the intermediate the leaf does not verify (the check is real).
  auto [bad_code, bad_output]
    = openssl_verify(chain[0].to_pem(), {}, root.cert.to_pem());
  CAF_CHECK_NOT_EQUAL(bad_code, 0);
}

CAF_TEST(an RSA root without ca.crt and the issuer notAfter clamps) {
  CAF_REQUIRE(cluster() != nullptr);
  auto ns = make_namespace("rsa");
  auto root = make_root("rsa root", true, std::chrono::hours{3});
  create(
    make_tls_secret(ns, "rsa-ca", root.cert.to_pem(), root.key.to_pem(), {}));
  create(make_ca_issuer(ns, "rsa", "rsa-ca"));
  auto key = ec_key();
  create(make_request(ns, "leaf", make_csr_pem(key, {}, {"rsa.example.com"}),
                      "rsa", "Issuer", {}, "2160h"));
  auto [cr, ok] = wait_for("certificaterequest", ns, "leaf", ready);
  CAF_REQUIRE(ok);
  auto chain = certs_of(status_pem(*cr, "certificate"));
  CAF_REQUIRE_EQUAL(chain.size(), 1u);
  CAF_CHECK(chain[0].issued_by(root.cert));
  // The self-signed root is the CA even without ca.crt.
  auto ca = certs_of(status_pem(*cr, "ca"));
  CAF_REQUIRE_EQUAL(ca.size(), 1u);
  CAF_CHECK(ca[0] == root.cert);
  // 90 days asked for, but never beyond the issuer (second precision).
  auto leaf_end = std::chrono::system_clock::to_time_t(chain[0].not_after());
  auto root_end = std::chrono::system_clock::to_time_t(root.cert.not_after());
  CAF_CHECK_EQUAL(leaf_end, root_end);
  auto [code, output]
    = openssl_verify(chain[0].to_pem(), {}, status_pem(*cr, "ca"));
  CAF_CHECK_EQUAL(code, 0);
  CAF_MESSAGE("openssl verify: " << output);
}

CAF_TEST(a ClusterIssuer signs for every namespace) {
  CAF_REQUIRE(cluster() != nullptr);
  auto ns = make_namespace("cluster-issuer");
  auto issuer = test_cluster::unique_name("cluster-ca");
  auto root = make_root("cluster root");
  create(make_tls_secret("cert-manager", issuer, root.cert.to_pem(),
                         root.key.to_pem(), root.cert.to_pem()));
  create(make_ca_issuer({}, issuer, issuer));
  auto [ci, ci_ok] = wait_for("clusterissuer", {}, issuer, [](auto& o) {
    return has_condition(o, "Ready", "True");
  });
  CAF_CHECK(ci_ok);
  auto key = ec_key();
  create(make_request(ns, "leaf", make_csr_pem(key, {"spiffe://x/y"}), issuer,
                      "ClusterIssuer"));
  auto [cr, ok] = wait_for("certificaterequest", ns, "leaf", ready);
  CAF_REQUIRE(ok);
  auto chain = certs_of(status_pem(*cr, "certificate"));
  CAF_REQUIRE(!chain.empty());
  CAF_CHECK(chain[0].issued_by(root.cert));
  // A namespaced Issuer of that name does not exist: pending.
  create(make_request(ns, "wrong-kind", make_csr_pem(key, {"spiffe://x/y"}),
                      issuer, "Issuer"));
  auto [pending, pending_ok]
    = wait_for("certificaterequest", ns, "wrong-kind", settled);
  CAF_REQUIRE(pending_ok);
  auto cond = condition(*pending, "Ready");
  CAF_CHECK_EQUAL(cond.value("reason", ""), "Pending");
  kubectl({"delete", "clusterissuer", issuer});
}

CAF_TEST(a selfSigned issuer signs with the referenced key) {
  CAF_REQUIRE(cluster() != nullptr);
  auto ns = make_namespace("selfsigned");
  create(json{{"apiVersion", "cert-manager.io/v1"},
              {"kind", "Issuer"},
              {"metadata", {{"name", "self"}, {"namespace", ns}}},
              {"spec", {{"selfSigned", json::object()}}}});
  auto [iss, iss_ok] = wait_for("issuer", ns, "self", [](auto& o) {
    return has_condition(o, "Ready", "True");
  });
  CAF_REQUIRE(iss_ok);
  auto reason = condition(*iss, "Ready").value("reason", "");
  CAF_CHECK_EQUAL(reason, "IsReady");
  auto key = ec_key();
  create(json{{"apiVersion", "v1"},
              {"kind", "Secret"},
              {"metadata", {{"name", "self-key"}, {"namespace", ns}}},
              {"data", {{"tls.key", kube::base64_encode(key.to_pem())}}}});
  auto request = make_request(ns, "root", make_csr_pem(key, {}, {"self.test"}),
                              "self", "Issuer", {}, "24h", true);
  request["metadata"]["annotations"]
    = {{"cert-manager.io/private-key-secret-name", "self-key"}};
  create(request);
  auto [cr, ok] = wait_for("certificaterequest", ns, "root", ready);
  CAF_REQUIRE(ok);
  auto chain = certs_of(status_pem(*cr, "certificate"));
  CAF_REQUIRE_EQUAL(chain.size(), 1u);
  CAF_CHECK(chain[0].is_self_signed());
  CAF_CHECK(chain[0].matches(key));
  CAF_CHECK(chain[0].is_ca());
  auto dns = chain[0].sans().dns;
  CAF_CHECK_EQUAL(dns, std::vector<std::string>{"self.test"});
  auto ca = status_pem(*cr, "ca");
  auto cert = status_pem(*cr, "certificate");
  CAF_CHECK_EQUAL(ca, cert);
  // Without the annotation cert-manager fails the request.
  create(
    make_request(ns, "no-key", make_csr_pem(key, {}, {"self.test"}), "self"));
  auto [failed, failed_ok]
    = wait_for("certificaterequest", ns, "no-key", settled);
  CAF_REQUIRE(failed_ok);
  auto cond = condition(*failed, "Ready");
  CAF_CHECK_EQUAL(cond.value("reason", ""), "Failed");
}

CAF_TEST(pending until the issuer and its secret exist) {
  CAF_REQUIRE(cluster() != nullptr);
  auto ns = make_namespace("pending");
  auto key = ec_key();
  create(
    make_request(ns, "early", make_csr_pem(key, {"spiffe://x/early"}), "late"));
  auto [cr, ok] = wait_for("certificaterequest", ns, "early", settled);
  CAF_REQUIRE(ok);
  auto cond = condition(*cr, "Ready");
  CAF_CHECK_EQUAL(cond.value("status", ""), "False");
  CAF_CHECK_EQUAL(cond.value("reason", ""), "Pending");
  CAF_CHECK_EQUAL(cond.value("message", ""),
                  "Referenced \"Issuer\" not found: issuer.cert-manager.io "
                  "\"late\" not found");
  CAF_CHECK(has_condition(*cr, "Approved", "True"));
  // The issuer appears, its Secret not yet: not ready, still pending.
  create(make_ca_issuer(ns, "late", "late-ca"));
  auto [iss, iss_ok] = wait_for("issuer", ns, "late", [](auto& o) {
    return has_condition(o, "Ready", "False");
  });
  CAF_REQUIRE(iss_ok);
  auto iss_reason = condition(*iss, "Ready").value("reason", "");
  CAF_CHECK_EQUAL(iss_reason, "ErrGetKeyPair");
  auto [cr2, ok2] = wait_for("certificaterequest", ns, "early", [](auto& o) {
    return condition(o, "Ready").value("message", "")
           == "Referenced issuer does not have a Ready status condition";
  });
  CAF_CHECK(ok2);
  // The Secret appears: signed.
  auto root = make_root("late root");
  create(make_tls_secret(ns, "late-ca", root.cert.to_pem(), root.key.to_pem(),
                         root.cert.to_pem()));
  auto [signed_cr, signed_ok]
    = wait_for("certificaterequest", ns, "early", ready);
  CAF_REQUIRE(signed_ok);
  auto chain = certs_of(status_pem(*signed_cr, "certificate"));
  CAF_REQUIRE(!chain.empty());
  CAF_CHECK(chain[0].issued_by(root.cert));
  auto [ready_iss, ready_ok] = wait_for("issuer", ns, "late", [](auto& o) {
    return has_condition(o, "Ready", "True");
  });
  CAF_CHECK(ready_ok);
}

CAF_TEST(a bad CSR fails) {
  CAF_REQUIRE(cluster() != nullptr);
  auto ns = make_namespace("bad-csr");
  auto root = make_root("bad csr root");
  create(make_tls_secret(ns, "ca", root.cert.to_pem(), root.key.to_pem(),
                         root.cert.to_pem()));
  create(make_ca_issuer(ns, "ca", "ca"));
  // Not a CSR at all: cert-manager's webhook (emulated by devcluster)
  // rejects it; without a webhook the signer fails it.
  auto garbage = cluster()->kubectl(
    {"create", "-f", "-"},
    make_request(ns, "garbage", "this is not a CSR\n", "ca").dump());
  std::vector<std::string> failing{"tampered"};
  if (garbage.exit_code != 0)
    CAF_CHECK(garbage.err.find("failed to decode csr") != std::string::npos);
  else
    failing.push_back("garbage");
  // A CSR whose signature does not verify: flip a bit of the signature.
  auto key = ec_key();
  auto block = pki::first_pem_block(make_csr_pem(key, {"spiffe://x/y"}));
  CAF_REQUIRE(block);
  auto der = block->der;
  der[der.size() - 3] = static_cast<char>(der[der.size() - 3] ^ 0x01);
  create(make_request(ns, "tampered",
                      pki::pem_encode("CERTIFICATE REQUEST", der), "ca"));
  // An unknown usage: the CRD's schema refuses it, as on a real server.
  auto usage = cluster()->kubectl(
    {"create", "-f", "-"},
    make_request(ns, "usage", make_csr_pem(key, {"spiffe://x/y"}), "ca",
                 "Issuer", {"flying"})
      .dump());
  CAF_CHECK_NOT_EQUAL(usage.exit_code, 0);
  CAF_CHECK(usage.err.find("spec.usages[0]: Unsupported value: \"flying\"")
            != std::string::npos);
  for (auto& name : failing) {
    CAF_MESSAGE("request " << name);
    auto [cr, ok] = wait_for("certificaterequest", ns, name, settled);
    CAF_REQUIRE(ok);
    auto cond = condition(*cr, "Ready");
    CAF_CHECK_EQUAL(cond.value("status", ""), "False");
    CAF_CHECK_EQUAL(cond.value("reason", ""), "Failed");
    CAF_MESSAGE("message: " << cond.value("message", ""));
    CAF_CHECK(cr->at("status").contains("failureTime"));
    CAF_CHECK(!cr->at("status").contains("certificate"));
  }
}

CAF_TEST(an issuer follows changes of its secret) {
  CAF_REQUIRE(cluster() != nullptr);
  auto ns = make_namespace("secret-change");
  // A Secret whose certificate is no CA.
  auto root = make_root("change root");
  auto leaf_key = ec_key();
  pki::cert_template tmpl;
  tmpl.subject.common_name = "not a ca";
  auto leaf = pki::issue(tmpl, leaf_key.public_key(), root.cert, root.key);
  CAF_REQUIRE(leaf);
  create(make_tls_secret(ns, "ca", leaf->to_pem(), leaf_key.to_pem(), {}));
  create(make_ca_issuer(ns, "ca", "ca"));
  auto [bad, bad_ok] = wait_for("issuer", ns, "ca", [](auto& o) {
    return has_condition(o, "Ready", "False");
  });
  CAF_REQUIRE(bad_ok);
  auto reason = condition(*bad, "Ready").value("reason", "");
  CAF_CHECK_EQUAL(reason, "ErrInvalidKeyPair");
  // The Secret is replaced by a usable CA: ready.
  kubectl({"replace", "-f", "-"},
          make_tls_secret(ns, "ca", root.cert.to_pem(), root.key.to_pem(), {})
            .dump());
  auto [good, good_ok] = wait_for("issuer", ns, "ca", [](auto& o) {
    return has_condition(o, "Ready", "True");
  });
  CAF_CHECK(good_ok);
}
