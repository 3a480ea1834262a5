#define CAF_SUITE kube.views
#include "caf/test/unit_test.hpp"

#include "kube/api/base64.hpp"
#include "kube/api/certificate.hpp"
#include "kube/api/certificate_request.hpp"
#include "kube/api/config_map.hpp"
#include "kube/api/lease.hpp"
#include "kube/api/namespace.hpp"
#include "kube/api/pod.hpp"
#include "kube/api/time.hpp"
#include "kube/api/token_review.hpp"

using namespace istio_csr::kube;
using namespace std::chrono_literals;
using json = nlohmann::json;

CAF_TEST(base64 round trips and rejects garbage) {
  for (std::string text : {"", "a", "ab", "abc", "abcd", "\x00\xff\x10"}) {
    auto enc = base64_encode(text);
    auto dec = base64_decode(enc);
    CAF_REQUIRE(dec.has_value());
    CAF_CHECK_EQUAL(*dec, text);
  }
  CAF_CHECK_EQUAL(base64_encode("hello"), "aGVsbG8=");
  CAF_CHECK(base64_decode("aGVs\nbG8=") == std::string{"hello"});
  CAF_CHECK(!base64_decode("aGVsbG8"));   // missing padding
  CAF_CHECK(!base64_decode("aGV$bG8="));  // bad character
  CAF_CHECK(!base64_decode("aGVsbG8=x")); // data after padding
  CAF_CHECK(!base64_decode("a==="));
}

CAF_TEST(go durations and kubernetes times) {
  CAF_CHECK_EQUAL(format_go_duration(24h), "24h0m0s");
  CAF_CHECK_EQUAL(format_go_duration(1h), "1h0m0s");
  CAF_CHECK_EQUAL(format_go_duration(90s), "1m30s");
  CAF_CHECK_EQUAL(format_go_duration(5s), "5s");
  CAF_CHECK_EQUAL(format_go_duration(1500ms), "1.5s");
  CAF_CHECK_EQUAL(format_go_duration(250ms), "250ms");
  CAF_CHECK_EQUAL(format_go_duration(0s), "0s");
  CAF_CHECK_EQUAL(format_go_duration(2160h), "2160h0m0s");
  CAF_CHECK_EQUAL(format_go_duration(-90s), "-1m30s");
  // The smallest duration (fuzz: "-09223372036854775808ns" parses to it)
  // has no positive counterpart: negating it was undefined.
  CAF_CHECK_EQUAL(format_go_duration(std::chrono::nanoseconds::min()),
                  "-2562047h47m16.854775808s");
  CAF_CHECK_EQUAL(format_go_duration(std::chrono::nanoseconds::max()),
                  "2562047h47m16.854775807s");
  auto tp = std::chrono::sys_days{std::chrono::year{2024} / 5 / 1} + 10h + 2min
            + 3s + 123456us;
  CAF_CHECK_EQUAL(format_time(tp), "2024-05-01T10:02:03Z");
  CAF_CHECK_EQUAL(format_micro_time(tp), "2024-05-01T10:02:03.123456Z");
  CAF_CHECK(parse_time("2024-05-01T10:02:03.123456Z") == tp);
  CAF_CHECK(parse_time("2024-05-01T12:02:03.123456+02:00") == tp);
  CAF_CHECK(parse_time("2024-05-01T10:02:03Z")
            == std::chrono::time_point_cast<std::chrono::seconds>(tp));
  CAF_CHECK(!parse_time("2024-05-01 10:02:03Z"));
  CAF_CHECK(!parse_time("2024-02-30T10:02:03Z"));
  CAF_CHECK(!parse_time("2024-05-01T10:02:03"));
}

// Found by fuzz/kube_object: a Lease's acquireTime in the year 6593
// overflowed the conversion to system_clock's nanoseconds (undefined
// behaviour: any time could come out). RFC 3339 reaches 9999, system_clock
// only 1677 to 2262: outside, a time reads as absent, as a malformed one.
CAF_TEST(times beyond the range of system_clock are not parsed) {
  CAF_CHECK(!parse_time("6593-05-01T10:00:00.123456Z"));
  CAF_CHECK(!parse_time("9999-12-31T23:59:59Z"));
  CAF_CHECK(!parse_time("0001-01-01T00:00:00Z"));
  CAF_CHECK(!parse_time("2262-04-12T00:00:00Z"));
  CAF_CHECK(!parse_time("1677-09-21T00:00:00Z"));
  auto last = parse_time("2262-04-11T23:47:15.999999999Z");
  CAF_REQUIRE(last.has_value());
  CAF_CHECK(*last < std::chrono::system_clock::time_point::max());
  auto first = parse_time("1677-09-21T00:12:44Z");
  CAF_REQUIRE(first.has_value());
  CAF_CHECK(*first > std::chrono::system_clock::time_point::min());
}

CAF_TEST(certificate request builder follows upstream) {
  certificate_request_spec spec;
  spec.namespace_ = "istio-system";
  spec.identities = "spiffe://cluster.local/ns/default/sa/app";
  spec.extra_annotations = {{"a.example/x", "1"}};
  spec.csr_pem = "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END "
                 "CERTIFICATE REQUEST-----\n";
  spec.duration = 1h;
  spec.usages = {"client auth", "server auth"};
  spec.issuer = {"istio-ca", "Issuer", "cert-manager.io"};
  auto cr = make_certificate_request(spec);
  CAF_CHECK_EQUAL(cr["apiVersion"], "cert-manager.io/v1");
  CAF_CHECK_EQUAL(cr["kind"], "CertificateRequest");
  CAF_CHECK_EQUAL(cr["metadata"]["generateName"], "istio-csr-");
  CAF_CHECK(!cr["metadata"].contains("name"));
  CAF_CHECK(!cr["metadata"].contains("labels"));
  CAF_CHECK_EQUAL(cr["metadata"]["namespace"], "istio-system");
  CAF_CHECK_EQUAL(cr["metadata"]["annotations"]["istio.cert-manager.io/"
                                                "identities"],
                  spec.identities);
  CAF_CHECK_EQUAL(cr["metadata"]["annotations"]["a.example/x"], "1");
  CAF_CHECK_EQUAL(cr["spec"]["duration"], "1h0m0s");
  CAF_CHECK_EQUAL(cr["spec"]["isCA"], false);
  CAF_CHECK_EQUAL(cr["spec"]["usages"],
                  json::array({"client auth", "server auth"}));
  CAF_CHECK_EQUAL(cr["spec"]["issuerRef"]["kind"], "Issuer");
  CAF_CHECK(!cr["spec"].contains("username"));
  certificate_request_view view{cr};
  CAF_CHECK(view.request() == spec.csr_pem);
  CAF_CHECK(view.issuer() == spec.issuer);
  // Extra annotations may overwrite the identities annotation.
  spec.extra_annotations[std::string{identities_annotation}] = "override";
  auto overridden = make_certificate_request(spec);
  CAF_CHECK_EQUAL(
    overridden["metadata"]["annotations"]["istio.cert-manager.io/identities"],
    "override");
}

CAF_TEST(certificate request status reader) {
  auto cr = json::parse(R"({"metadata": {"name": "istio-csr-x"}, "status": {
    "conditions": [{"type": "Approved", "status": "True"},
                   {"type": "Ready", "status": "False", "reason": "Pending"}]}})");
  certificate_request_view v{cr};
  CAF_CHECK(!v.ready());
  CAF_CHECK(!v.denied());
  CAF_CHECK(!v.failed());
  CAF_CHECK(!v.certificate());
  cr["status"]["conditions"][1]["reason"] = "Failed";
  cr["status"]["conditions"][1]["message"] = "issuer broken";
  CAF_CHECK(certificate_request_view{cr}.failed());
  CAF_CHECK_EQUAL(to_string(certificate_request_view{cr}.conditions()),
                  "[Approved=True, Ready=False (Failed: issuer broken)]");
  cr["status"]["conditions"]
    = json::array({json{{"type", "Denied"}, {"status", "True"}}});
  CAF_CHECK(certificate_request_view{cr}.denied());
  cr["status"]["conditions"]
    = json::array({json{{"type", "Ready"}, {"status", "True"}}});
  cr["status"]["certificate"] = base64_encode("CERT PEM");
  cr["status"]["ca"] = base64_encode("CA PEM");
  CAF_CHECK(certificate_request_view{cr}.ready());
  CAF_CHECK(certificate_request_view{cr}.certificate()
            == std::string{"CERT PEM"});
  CAF_CHECK(certificate_request_view{cr}.ca() == std::string{"CA PEM"});
  cr["status"]["certificate"] = "not base64!";
  CAF_CHECK(!certificate_request_view{cr}.certificate());
}

CAF_TEST(token review request and status) {
  auto req = make_token_review("tok", {"istio-ca"});
  CAF_CHECK_EQUAL(req["apiVersion"], "authentication.k8s.io/v1");
  CAF_CHECK_EQUAL(req["spec"]["token"], "tok");
  CAF_CHECK_EQUAL(req["spec"]["audiences"], json::array({"istio-ca"}));
  CAF_CHECK(!make_token_review("tok", {})["spec"].contains("audiences"));
  auto ok = json::parse(R"({"status": {"authenticated": true,
    "user": {"username": "system:serviceaccount:ns:sa", "uid": "u1",
             "groups": ["system:serviceaccounts", "system:authenticated"],
             "extra": {"authentication.kubernetes.io/pod-name": ["p1"],
                       "authentication.kubernetes.io/node-name": ["n1"]}},
    "audiences": ["istio-ca"]}})");
  token_review_view v{ok};
  CAF_CHECK(v.authenticated());
  CAF_CHECK_EQUAL(v.username(), "system:serviceaccount:ns:sa");
  CAF_CHECK_EQUAL(v.uid(), "u1");
  CAF_CHECK_EQUAL(v.groups().size(), 2u);
  CAF_CHECK_EQUAL(v.extra_value("authentication.kubernetes.io/pod-name"), "p1");
  CAF_CHECK_EQUAL(v.extra().size(), 2u);
  CAF_CHECK_EQUAL(v.audiences(), std::vector<std::string>{"istio-ca"});
  // A rejected token: `authenticated` is absent, not false.
  auto bad = json::parse(R"({"status": {"error": "invalid bearer token"}})");
  CAF_CHECK(!token_review_view{bad}.authenticated());
  CAF_CHECK_EQUAL(token_review_view{bad}.error(), "invalid bearer token");
}

CAF_TEST(lease spec round trips with micro time) {
  lease_spec spec;
  spec.holder_identity = "pod-1";
  spec.lease_duration = 15s;
  spec.acquire_time
    = std::chrono::sys_days{std::chrono::year{2024} / 1 / 2} + 3h + 123456us;
  spec.renew_time = *spec.acquire_time + 2s;
  spec.lease_transitions = 4;
  auto lease = make_lease("istio-system", "istio-csr", spec);
  CAF_CHECK_EQUAL(lease["spec"]["acquireTime"], "2024-01-02T03:00:00.123456Z");
  auto back = lease_view{lease}.spec();
  CAF_CHECK_EQUAL(back.holder_identity, "pod-1");
  CAF_CHECK(back.lease_duration == 15s);
  CAF_CHECK(back.acquire_time == spec.acquire_time);
  CAF_CHECK(back.renew_time == spec.renew_time);
  CAF_CHECK_EQUAL(back.lease_transitions, 4);
}

CAF_TEST(pod view and strip keep only what the agent uses) {
  auto pod = json::parse(R"({"apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "p", "namespace": "ns", "uid": "u",
                 "resourceVersion": "7", "labels": {"a": "b"},
                 "managedFields": [{"manager": "kubectl"}]},
    "spec": {"serviceAccountName": "sa", "nodeName": "n1",
             "containers": [{"name": "c", "image": "busybox"}]},
    "status": {"phase": "Running", "podIP": "10.0.0.1"}})");
  auto small = strip_pod(pod);
  pod_view v{small};
  CAF_CHECK_EQUAL(v.name(), "p");
  CAF_CHECK_EQUAL(v.namespace_(), "ns");
  CAF_CHECK_EQUAL(v.uid(), "u");
  CAF_CHECK_EQUAL(v.resource_version(), "7");
  CAF_CHECK_EQUAL(v.service_account_name(), "sa");
  CAF_CHECK_EQUAL(v.node_name(), "n1");
  CAF_CHECK_EQUAL(v.phase(), "Running");
  CAF_CHECK(!small["metadata"].contains("labels"));
  CAF_CHECK(!small["metadata"].contains("managedFields"));
  CAF_CHECK(!small["spec"].contains("containers"));
  CAF_CHECK(!small["status"].contains("podIP"));
  CAF_CHECK_LESS(small.dump().size(), pod.dump().size());
}

CAF_TEST(namespace config map and certificate views) {
  auto ns = json::parse(R"({"metadata": {"name": "a", "labels": {"x": "y"}},
                            "status": {"phase": "Terminating"}})");
  namespace_view nv{ns};
  CAF_CHECK(nv.terminating());
  CAF_CHECK(nv.label("x") == std::string{"y"});
  CAF_CHECK(!nv.label("z"));
  CAF_CHECK_EQUAL(nv.key(), "a");
  auto cm
    = make_config_map("ns", "istio-ca-root-cert", {{"istio.io/config", "true"}},
                      {{"root-cert.pem", "PEM"}});
  config_map_view cv{cm};
  CAF_CHECK_EQUAL(cv.key(), "ns/istio-ca-root-cert");
  CAF_CHECK(cv.data("root-cert.pem") == std::string{"PEM"});
  auto labels = cv.labels();
  CAF_CHECK_EQUAL(labels["istio.io/config"], "true");
  certificate_spec cs;
  cs.common_name = "istiod.istio-system.svc";
  cs.dns_names = {"istiod.istio-system.svc", "istiod.istio-system.svc"};
  cs.uris
    = {"spiffe://cluster.local/ns/istio-system/sa/istiod-service-account"};
  cs.secret_name = "istiod-tls";
  cs.duration = 1h;
  cs.renew_before = 30min;
  cs.private_key_rotation_policy = "Always";
  cs.private_key_algorithm = "RSA";
  cs.private_key_size = 2048;
  cs.revision_history_limit = 1;
  cs.issuer = {"istio-ca", "Issuer", "cert-manager.io"};
  auto cert = make_certificate("istio-system", "istiod", cs);
  CAF_CHECK_EQUAL(cert["spec"]["renewBefore"], "30m0s");
  CAF_CHECK_EQUAL(cert["spec"]["privateKey"]["size"], 2048);
  CAF_CHECK_EQUAL(cert["spec"]["revisionHistoryLimit"], 1);
  certificate_view certv{cert};
  CAF_CHECK_EQUAL(certv.dns_names().size(), 2u); // duplicates kept
  CAF_CHECK(!certv.ready());
  CAF_CHECK_EQUAL(certv.secret_name(), "istiod-tls");
}
