// The dynamic istiod Certificate as data: upstream's
// TestMakeDNSNamesFromRevisions (every case), the desired spec, the object
// created and the update that replaces a drifted spec.

#define CAF_SUITE controllers.istiod_names

#include "caf/test/unit_test.hpp"

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/controllers/istiod_cert_spec.hpp"
#include "config/options.hpp"

using namespace istio_csr;
using namespace istio_csr::actors::controllers;
using json = nlohmann::json;
using strings = std::vector<std::string>;

namespace {

/// Upstream's check: the revisions come back from the DNS names
/// (`istiod.<ns>.svc` ↔ default, `istiod-<r>.<ns>.svc` ↔ r).
strings revisions_of(const istiod_names& names, const std::string& ns) {
  std::string prefix = "istiod-";
  std::string suffix = "." + ns + ".svc";
  strings result;
  for (const auto& name : names.dns_names) {
    if (name == names.common_name) {
      result.push_back("default");
      continue;
    }
    CAF_REQUIRE_GREATER(name.size(), prefix.size() + suffix.size());
    CAF_CHECK_EQUAL(name.substr(0, prefix.size()), prefix);
    CAF_CHECK_EQUAL(name.substr(name.size() - suffix.size()), suffix);
    result.push_back(
      name.substr(prefix.size(), name.size() - prefix.size() - suffix.size()));
  }
  return result;
}

/// One upstream case: the common name is always `istiod.<ns>.svc`; no
/// revisions give `[common name]`; otherwise the revisions are recovered
/// in order, duplicates included.
void check_case(const std::string& ns, const strings& revisions) {
  auto names = istiod_dns_names(ns, revisions);
  std::string common_name = "istiod." + ns + ".svc";
  CAF_CHECK_EQUAL(names.common_name, common_name);
  if (revisions.empty()) {
    CAF_CHECK_EQUAL(names.dns_names, strings{common_name});
    return;
  }
  auto recovered = revisions_of(names, ns);
  CAF_CHECK_EQUAL(recovered, revisions);
}

istiod_cert_settings settings() {
  istiod_cert_settings s;
  s.name = "istiod-dynamic";
  s.namespace_ = "istio-system";
  s.trust_domain = "foo.bar";
  return s;
}

const kube::issuer_ref ca{"istio-ca", "Issuer", "cert-manager.io"};

} // namespace

// -- upstream TestMakeDNSNamesFromRevisions ----------------------------------

CAF_TEST(empty revisions) {
  check_case("test1", {});
}

CAF_TEST(default only revision) {
  check_case("test2", {"default"});
}

CAF_TEST(default first among revisions) {
  check_case("test3", {"default", "1-21-0", "1-22-1"});
}

CAF_TEST(default among revisions) {
  check_case("test3", {"1-21-0", "default", "1-22-1"});
}

CAF_TEST(non default revisions) {
  check_case("test4", {"1-21-0", "1-22-1"});
}

CAF_TEST(duplicate revisions) {
  check_case("test5", {"default", "1-21-0", "default", "1-22-1", "1-21-0"});
}

// -- the exact names
// -----------------------------------------------------------

CAF_TEST(names are spelled exactly) {
  auto names
    = istiod_dns_names("istio-system", {"1-21-0", "default", "1-21-0"});
  CAF_CHECK_EQUAL(names.common_name, "istiod.istio-system.svc");
  CAF_CHECK_EQUAL(names.dns_names, (strings{"istiod-1-21-0.istio-system.svc",
                                            "istiod.istio-system.svc",
                                            "istiod-1-21-0.istio-system.svc"}));
  // No revision named default: the common name is still istiod.<ns>.svc
  // but not among the DNS names.
  auto canary = istiod_dns_names("mesh", {"canary"});
  CAF_CHECK_EQUAL(canary.common_name, "istiod.mesh.svc");
  CAF_CHECK_EQUAL(canary.dns_names, strings{"istiod-canary.mesh.svc"});
}

// -- the desired spec
// ----------------------------------------------------------

CAF_TEST(the spec with the defaults) {
  auto spec = kube::certificate_spec_json(istiod_cert_spec(settings(), ca));
  json want = json::parse(R"({
    "commonName": "istiod.istio-system.svc",
    "dnsNames": ["istiod.istio-system.svc"],
    "uris": ["spiffe://foo.bar/ns/istio-system/sa/istiod-service-account"],
    "secretName": "istiod-tls",
    "duration": "1h0m0s",
    "renewBefore": "30m0s",
    "privateKey": {"rotationPolicy": "Always", "algorithm": "RSA",
                   "size": 2048},
    "revisionHistoryLimit": 1,
    "issuerRef": {"name": "istio-ca", "kind": "Issuer",
                  "group": "cert-manager.io"}
  })");
  CAF_CHECK_EQUAL(spec.dump(), want.dump());
}

CAF_TEST(revisions then additional names in order and with duplicates) {
  auto s = settings();
  s.namespace_ = "mesh";
  s.revisions = {"1-22-0", "default"};
  s.additional_dns_names = {"istiod.example.com", "istiod.mesh.svc"};
  s.key_algorithm = "ECDSA";
  s.key_size = 384;
  s.duration = std::chrono::hours{2};
  s.renew_before = std::chrono::minutes{90};
  kube::issuer_ref cluster_issuer{"vault", "ClusterIssuer", "example.io"};
  auto spec = kube::certificate_spec_json(istiod_cert_spec(s, cluster_issuer));
  CAF_CHECK_EQUAL(spec["commonName"].get<std::string>(), "istiod.mesh.svc");
  CAF_CHECK_EQUAL(spec["dnsNames"].dump(),
                  json({"istiod-1-22-0.mesh.svc", "istiod.mesh.svc",
                        "istiod.example.com", "istiod.mesh.svc"})
                    .dump());
  CAF_CHECK_EQUAL(
    spec["uris"].dump(),
    json({"spiffe://foo.bar/ns/mesh/sa/istiod-service-account"}).dump());
  CAF_CHECK_EQUAL(spec["duration"].get<std::string>(), "2h0m0s");
  CAF_CHECK_EQUAL(spec["renewBefore"].get<std::string>(), "1h30m0s");
  CAF_CHECK_EQUAL(
    spec["privateKey"].dump(),
    json({{"algorithm", "ECDSA"}, {"rotationPolicy", "Always"}, {"size", 384}})
      .dump());
  CAF_CHECK_EQUAL(spec["issuerRef"].dump(), json({{"group", "example.io"},
                                                  {"kind", "ClusterIssuer"},
                                                  {"name", "vault"}})
                                              .dump());
}

CAF_TEST(settings from the command line) {
  config::options opts;
  opts.tls.trust_domain = "mesh.example";
  opts.istiod_cert.enabled = true;
  opts.istiod_cert.name = "istiod-x";
  opts.istiod_cert.namespace_ = "istio-x";
  opts.istiod_cert.cert_duration = std::chrono::hours{3};
  opts.istiod_cert.renew_before = std::chrono::minutes{20};
  opts.istiod_cert.key_algorithm = "ECDSA";
  opts.istiod_cert.key_size = 256;
  opts.istiod_cert.istio_revisions = {"a", "b"};
  opts.istiod_cert.additional_dns_names = {"x.example"};
  opts.istiod_cert.additional_annotations = {{"k", "v"}};
  auto s = istiod_cert_settings_from(opts);
  CAF_CHECK_EQUAL(s.name, "istiod-x");
  CAF_CHECK_EQUAL(s.namespace_, "istio-x");
  CAF_CHECK_EQUAL(s.trust_domain, "mesh.example");
  CAF_CHECK_EQUAL(s.duration.count(), 3 * 3600);
  CAF_CHECK_EQUAL(s.renew_before.count(), 20 * 60);
  CAF_CHECK_EQUAL(s.key_algorithm, "ECDSA");
  CAF_CHECK_EQUAL(s.key_size, 256);
  CAF_CHECK_EQUAL(s.revisions, (strings{"a", "b"}));
  CAF_CHECK_EQUAL(s.additional_dns_names, strings{"x.example"});
  CAF_CHECK_EQUAL(s.additional_annotations.size(), 1u);
  // No revisions given: upstream's binary default [] means [default].
  opts.istiod_cert.istio_revisions.clear();
  auto spec = istiod_cert_spec(istiod_cert_settings_from(opts), ca);
  CAF_CHECK_EQUAL(spec.dns_names, (strings{"istiod.istio-x.svc", "x.example"}));
}

// -- create and update
// -----------------------------------------------------------

CAF_TEST(the created object carries the additional annotations) {
  auto s = settings();
  s.additional_annotations = {{"example.com/team", "mesh"}};
  auto obj = make_istiod_certificate(s, ca);
  CAF_CHECK_EQUAL(obj["apiVersion"].get<std::string>(), "cert-manager.io/v1");
  CAF_CHECK_EQUAL(obj["kind"].get<std::string>(), "Certificate");
  CAF_CHECK_EQUAL(obj["metadata"]["name"].get<std::string>(), "istiod-dynamic");
  CAF_CHECK_EQUAL(obj["metadata"]["namespace"].get<std::string>(),
                  "istio-system");
  CAF_CHECK_EQUAL(obj["metadata"]["annotations"].dump(),
                  json({{"example.com/team", "mesh"}}).dump());
  CAF_CHECK_EQUAL(obj["spec"].dump(),
                  kube::certificate_spec_json(istiod_cert_spec(s, ca)).dump());
}

CAF_TEST(an object with the desired spec needs no update) {
  auto s = settings();
  auto current = make_istiod_certificate(s, ca);
  current["metadata"]["resourceVersion"] = "7";
  current["status"] = {{"conditions", json::array()}};
  CAF_CHECK(istiod_cert_update(s, ca, current).is_null());
}

CAF_TEST(an update replaces the whole spec and keeps the metadata) {
  auto s = settings();
  s.additional_annotations = {{"created", "only"}};
  auto current = make_istiod_certificate(s, ca);
  current["metadata"]["resourceVersion"] = "42";
  current["metadata"]["annotations"] = {{"someone", "else"}};
  current["spec"]["dnsNames"] = {"evil.example"};
  current["spec"]["subject"] = {{"organizations", {"x"}}};
  current["status"] = {{"revision", 3}};
  auto updated = istiod_cert_update(s, ca, current);
  CAF_REQUIRE(!updated.is_null());
  CAF_CHECK_EQUAL(updated["spec"].dump(),
                  kube::certificate_spec_json(istiod_cert_spec(s, ca)).dump());
  CAF_CHECK_EQUAL(updated["metadata"]["resourceVersion"].get<std::string>(),
                  "42");
  // Annotations are set on create only.
  CAF_CHECK_EQUAL(updated["metadata"]["annotations"].dump(),
                  json({{"someone", "else"}}).dump());
  CAF_CHECK(!updated.contains("status"));
}

CAF_TEST(another issuer is a drift) {
  auto s = settings();
  auto current = make_istiod_certificate(s, ca);
  kube::issuer_ref other{"runtimeconfig-ca-issuer", "Issuer",
                         "cert-manager.io"};
  auto updated = istiod_cert_update(s, other, current);
  CAF_REQUIRE(!updated.is_null());
  CAF_CHECK_EQUAL(updated["spec"]["issuerRef"]["name"].get<std::string>(),
                  "runtimeconfig-ca-issuer");
  // Back to the first issuer: a drift again.
  CAF_CHECK(!istiod_cert_update(s, ca, updated).is_null());
  CAF_CHECK(istiod_cert_update(s, other, updated).is_null());
}
