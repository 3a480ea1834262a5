#define CAF_SUITE helm.istiod_cert
#include "caf/test/unit_test.hpp"

#include "tests/helm/helm_chart.hpp"

using namespace istio_csr::test;
using namespace istio_csr::test::helm;

namespace {

using strings_t = std::vector<std::string>;

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

/// The static istiod Certificate rendered with `values`; a null node when
/// there is none. Fails the test if rendering fails.
YAML::Node istiod_cert(const std::string& values,
                       const std::string& ns = "istio-system") {
  auto r = render_values(values);
  if (!r.ok())
    CAF_FAIL("helm template failed: " << r.result.err);
  return r.find("Certificate", "istiod", ns);
}

std::string revisions_values(const std::string& revisions,
                             const std::string& extra = {}) {
  return "app:\n  istio:\n    revisions: " + revisions + "\n" + extra;
}

} // namespace

CAF_TEST(the default istiod certificate) {
  auto cert = istiod_cert("");
  CAF_REQUIRE(cert);
  CAF_CHECK_EQUAL(str(cert["apiVersion"]), "cert-manager.io/v1");
  CAF_CHECK(!cert["metadata"]["annotations"]);
  auto spec = cert["spec"];
  CAF_CHECK_EQUAL(str(spec["commonName"]), "istiod.istio-system.svc");
  check_same_list(strings(spec["dnsNames"]), {"istiod.istio-system.svc"},
                  "dnsNames");
  check_same_list(strings(spec["uris"]),
                  {"spiffe://cluster.local/ns/istio-system/sa/"
                   "istiod-service-account"},
                  "uris");
  CAF_CHECK_EQUAL(str(spec["secretName"]), "istiod-tls");
  CAF_CHECK_EQUAL(str(spec["duration"]), "1h");
  CAF_CHECK_EQUAL(str(spec["renewBefore"]), "30m");
  CAF_CHECK_EQUAL(str(spec["privateKey"]["rotationPolicy"]), "Always");
  CAF_CHECK_EQUAL(str(spec["privateKey"]["algorithm"]), "RSA");
  CAF_CHECK_EQUAL(str(spec["privateKey"]["size"]), "2048");
  CAF_CHECK_EQUAL(str(spec["revisionHistoryLimit"]), "1");
  CAF_CHECK_EQUAL(str(spec["issuerRef"]["name"]), "istio-ca");
  CAF_CHECK_EQUAL(str(spec["issuerRef"]["kind"]), "Issuer");
  CAF_CHECK_EQUAL(str(spec["issuerRef"]["group"]), "cert-manager.io");
}

CAF_TEST(one dns name per revision then the additional names) {
  auto cert = istiod_cert(revisions_values(
    "[default, 1-22, canary]",
    "  tls:\n    istiodAdditionalDNSNames: ['*.mesh.example.com', "
    "istiod.example.com]\n"));
  CAF_REQUIRE(cert);
  // Wildcards are accepted here (the dynamic certificate rejects them).
  check_same_list(strings(cert["spec"]["dnsNames"]),
                  {"istiod.istio-system.svc", "istiod-1-22.istio-system.svc",
                   "istiod-canary.istio-system.svc", "*.mesh.example.com",
                   "istiod.example.com"},
                  "dnsNames");
}

CAF_TEST(the common name is the default revision even when not listed) {
  auto cert = istiod_cert(revisions_values("[1-22]"));
  CAF_REQUIRE(cert);
  CAF_CHECK_EQUAL(str(cert["spec"]["commonName"]), "istiod.istio-system.svc");
  check_same_list(strings(cert["spec"]["dnsNames"]),
                  {"istiod-1-22.istio-system.svc"}, "dnsNames");
  // An empty list means the default revision.
  auto empty = istiod_cert(revisions_values("[]"));
  CAF_REQUIRE(empty);
  check_same_list(strings(empty["spec"]["dnsNames"]),
                  {"istiod.istio-system.svc"}, "dnsNames");
}

CAF_TEST(duplicate revisions fail the render) {
  for (auto revisions : {"[default, default]", "[1-22, canary, 1-22]"}) {
    auto r = render_values(revisions_values(revisions));
    CAF_CHECK_NOT_EQUAL(r.result.exit_code, 0);
    if (!contains(r.result.err, "duplicate revision"))
      CAF_ERROR(revisions << ": unexpected error: " << r.result.err);
  }
  // Only the static certificate checks them.
  auto dynamic = render_values(revisions_values(
    "[default, default]", "  tls:\n    istiodCertificateEnable: dynamic\n"));
  CAF_CHECK(dynamic.ok());
}

CAF_TEST(namespace trust domain key and issuer come from values) {
  auto cert = istiod_cert("app:\n"
                          "  istio:\n    namespace: mesh\n"
                          "    revisions: [default, stable]\n"
                          "  server:\n    serving:\n"
                          "      signatureAlgorithm: ECDSA\n"
                          "  tls:\n    trustDomain: foo.bar\n"
                          "    istiodCertificateDuration: 24h\n"
                          "    istiodCertificateRenewBefore: 4h\n"
                          "    istiodPrivateKeySize: 384\n"
                          "  certmanager:\n    issuer:\n      name: int-1\n"
                          "      kind: ClusterIssuer\n"
                          "      group: example.io\n"
                          "    additionalAnnotations:\n"
                          "    - {name: custom.cert-manager.io/policy-name, "
                          "value: istio-csr}\n"
                          "    - {name: example.io/flag, value: true}\n",
                          "mesh");
  CAF_REQUIRE(cert);
  CAF_CHECK_EQUAL(str(cert["metadata"]["namespace"]), "mesh");
  auto ann = cert["metadata"]["annotations"];
  CAF_CHECK_EQUAL(str(ann["custom.cert-manager.io/policy-name"]), "istio-csr");
  // Annotation values are strings, even when YAML read a boolean.
  CAF_CHECK(ann["example.io/flag"].Tag() == "!"
            || ann["example.io/flag"].Tag() == "tag:yaml.org,2002:str");
  CAF_CHECK_EQUAL(str(ann["example.io/flag"]), "true");
  auto spec = cert["spec"];
  CAF_CHECK_EQUAL(str(spec["commonName"]), "istiod.mesh.svc");
  check_same_list(strings(spec["dnsNames"]),
                  {"istiod.mesh.svc", "istiod-stable.mesh.svc"}, "dnsNames");
  check_same_list(strings(spec["uris"]),
                  {"spiffe://foo.bar/ns/mesh/sa/istiod-service-account"},
                  "uris");
  CAF_CHECK_EQUAL(str(spec["duration"]), "24h");
  CAF_CHECK_EQUAL(str(spec["renewBefore"]), "4h");
  CAF_CHECK_EQUAL(str(spec["privateKey"]["algorithm"]), "ECDSA");
  CAF_CHECK_EQUAL(str(spec["privateKey"]["size"]), "384");
  CAF_CHECK_EQUAL(str(spec["issuerRef"]["name"]), "int-1");
  CAF_CHECK_EQUAL(str(spec["issuerRef"]["kind"]), "ClusterIssuer");
  CAF_CHECK_EQUAL(str(spec["issuerRef"]["group"]), "example.io");
}

CAF_TEST(the static certificate exists only when enabled with true) {
  CAF_CHECK(istiod_cert("app:\n  tls:\n    istiodCertificateEnable: true\n"));
  CAF_CHECK(
    istiod_cert("app:\n  tls:\n    istiodCertificateEnable: \"true\"\n"));
  for (auto v : {"false", "dynamic", "null"}) {
    auto r = render_values(
      std::string{"app:\n  tls:\n    istiodCertificateEnable: "} + v + "\n");
    CAF_REQUIRE(r.ok());
    for (const auto& obj : r.objects)
      if (str(obj["kind"]) == "Certificate")
        CAF_ERROR("istiodCertificateEnable " << v << " renders a Certificate");
  }
}
