// TokenRequest, service-account JWTs and TokenReview, by raw HTTPS.
#define CAF_SUITE devcluster.tokens
#include "caf/test/unit_test.hpp"

#include "tests/devcluster/fixture.hpp"

using namespace istio_csr::test;

namespace {

struct issued {
  std::string token;
  json response;
  int status = 0;
};

issued request_token(const std::string& ns, const std::string& sa, json spec) {
  json body{{"apiVersion", "authentication.k8s.io/v1"},
            {"kind", "TokenRequest"},
            {"spec", std::move(spec)}};
  auto r = client().post(core_path(ns, "serviceaccounts", sa) + "/token", body);
  issued out;
  out.status = r.status;
  out.response = r.json();
  if (r.status == 201)
    out.token = out.response["status"]["token"].get<std::string>();
  return out;
}

json pod_ref(const std::string& name, const std::string& uid = {}) {
  json ref{{"kind", "Pod"}, {"apiVersion", "v1"}, {"name", name}};
  if (!uid.empty())
    ref["uid"] = uid;
  return ref;
}

/// POSTs a TokenReview; returns the HTTP status and the whole answer.
std::pair<int, json> review(const std::string& token,
                            const std::vector<std::string>& audiences = {}) {
  json spec{{"token", token}};
  if (!audiences.empty())
    spec["audiences"] = audiences;
  auto r = client().post("/apis/authentication.k8s.io/v1/tokenreviews",
                         json{{"apiVersion", "authentication.k8s.io/v1"},
                              {"kind", "TokenReview"},
                              {"spec", spec}});
  return {r.status, r.json()};
}

std::string uid_of(const std::string& path) {
  return client().get(path).json()["metadata"]["uid"].get<std::string>();
}

} // namespace

CAF_TEST(a token bound to a pod carries the claims of a real server) {
  auto ns = fresh_namespace("tok-claims");
  auto pod_uid = create(core_path(ns, "pods"), pod("app"))["metadata"]["uid"]
                   .get<std::string>();
  auto sa_uid = uid_of(core_path(ns, "serviceaccounts", "default"));
  auto t = request_token(ns, "default",
                         json{{"audiences", {"istio-ca"}},
                              {"expirationSeconds", 3600},
                              {"boundObjectRef", pod_ref("app")}});
  CAF_REQUIRE_EQUAL(t.status, 201);
  CAF_CHECK_EQUAL(t.response["kind"], "TokenRequest");
  CAF_CHECK(t.response["status"]["expirationTimestamp"].is_string());
  auto header = jwt_header(t.token);
  CAF_CHECK_EQUAL(header["alg"], "RS256");
  CAF_CHECK(!header.value("kid", "").empty());
  CAF_CHECK(!header.contains("typ"));
  auto c = jwt_claims(t.token);
  CAF_CHECK_EQUAL(c["aud"], (json{"istio-ca"}));
  CAF_CHECK_EQUAL(c["exp"].get<int64_t>() - c["iat"].get<int64_t>(), 3600);
  CAF_CHECK_EQUAL(c["nbf"], c["iat"]);
  CAF_CHECK(!c.value("iss", "").empty());
  CAF_CHECK(!c.value("jti", "").empty());
  CAF_CHECK_EQUAL(c["sub"], "system:serviceaccount:" + ns + ":default");
  auto k8s = c["kubernetes.io"];
  CAF_CHECK_EQUAL(k8s["namespace"], ns);
  CAF_CHECK_EQUAL(k8s["serviceaccount"]["name"], "default");
  CAF_CHECK_EQUAL(k8s["serviceaccount"]["uid"], sa_uid);
  CAF_CHECK_EQUAL(k8s["pod"]["name"], "app");
  CAF_CHECK_EQUAL(k8s["pod"]["uid"], pod_uid);
  CAF_CHECK_EQUAL(k8s["node"]["name"], node_name());
  // The node's uid only because the Node object exists.
  auto node_uid = client()
                    .get("/api/v1/nodes/" + node_name())
                    .json()["metadata"]["uid"]
                    .get<std::string>();
  CAF_CHECK_EQUAL(k8s["node"]["uid"], node_uid);
  // Without audiences: the API server's own; without a pod: no pod claim.
  auto plain = request_token(ns, "default", json::object());
  CAF_REQUIRE_EQUAL(plain.status, 201);
  auto pc = jwt_claims(plain.token);
  CAF_CHECK(pc["aud"].is_array());
  CAF_CHECK_GREATER(pc["aud"].size(), 0u);
  CAF_CHECK_EQUAL(pc["aud"], plain.response["spec"]["audiences"]);
  CAF_CHECK_EQUAL(pc["exp"].get<int64_t>() - pc["iat"].get<int64_t>(), 3600);
  CAF_CHECK(!pc["kubernetes.io"].contains("pod"));
  CAF_CHECK(!pc["kubernetes.io"].contains("node"));
}

CAF_TEST(token review of a token bound to a pod) {
  auto ns = fresh_namespace("tok-review");
  auto pod_uid = create(core_path(ns, "pods"), pod("app"))["metadata"]["uid"]
                   .get<std::string>();
  auto sa_uid = uid_of(core_path(ns, "serviceaccounts", "default"));
  auto t = request_token(
    ns, "default",
    json{{"audiences", {"istio-ca"}}, {"boundObjectRef", pod_ref("app")}});
  CAF_REQUIRE_EQUAL(t.status, 201);
  auto [code, r] = review(t.token, {"istio-ca"});
  CAF_CHECK_EQUAL(code, 201);
  CAF_CHECK_EQUAL(r["kind"], "TokenReview");
  auto st = r["status"];
  CAF_CHECK_EQUAL(st["authenticated"], true);
  CAF_CHECK_EQUAL(st["user"]["username"],
                  "system:serviceaccount:" + ns + ":default");
  CAF_CHECK_EQUAL(st["user"]["uid"], sa_uid);
  CAF_CHECK_EQUAL(st["user"]["groups"], (json{"system:serviceaccounts",
                                              "system:serviceaccounts:" + ns,
                                              "system:authenticated"}));
  auto extra = st["user"]["extra"];
  auto jti = jwt_claims(t.token)["jti"].get<std::string>();
  CAF_CHECK_EQUAL(extra["authentication.kubernetes.io/credential-id"],
                  (json{"JTI=" + jti}));
  CAF_CHECK_EQUAL(extra["authentication.kubernetes.io/node-name"],
                  (json{node_name()}));
  CAF_CHECK_EQUAL(extra["authentication.kubernetes.io/node-uid"].size(), 1u);
  CAF_CHECK_EQUAL(extra["authentication.kubernetes.io/pod-name"],
                  (json{"app"}));
  CAF_CHECK_EQUAL(extra["authentication.kubernetes.io/pod-uid"],
                  (json{pod_uid}));
  CAF_CHECK_EQUAL(st["audiences"], (json{"istio-ca"}));
  CAF_CHECK(!st.contains("error"));
  // Several audiences: authenticated if any matches.
  auto [code2, r2] = review(t.token, {"other", "istio-ca"});
  CAF_CHECK_EQUAL(code2, 201);
  CAF_CHECK_EQUAL(r2["status"]["authenticated"], true);
  CAF_CHECK_EQUAL(r2["status"]["audiences"], (json{"istio-ca"}));
}

CAF_TEST(token review failures) {
  auto ns = fresh_namespace("tok-fail");
  auto t = request_token(ns, "default", json{{"audiences", {"istio-ca"}}});
  CAF_REQUIRE_EQUAL(t.status, 201);
  auto [code, wrong_aud] = review(t.token, {"someone-else"});
  CAF_CHECK_EQUAL(code, 201);
  CAF_CHECK(!wrong_aud["status"].contains("authenticated"));
  CAF_CHECK(!wrong_aud["status"].value("error", "").empty());
  auto [code2, garbage] = review("garbage.token.here", {"istio-ca"});
  CAF_CHECK_EQUAL(code2, 201);
  CAF_CHECK(!garbage["status"].contains("authenticated"));
  CAF_CHECK(!garbage["status"].value("error", "").empty());
  // A signature that does not verify.
  // (Not the last character: its low bits are padding, which Go's base64
  // ignores, so changing only those leaves the signature valid.)
  auto tampered = t.token;
  auto& c = tampered[tampered.size() - 10];
  c = c == 'A' ? 'B' : 'A';
  auto [code3, bad_sig] = review(tampered, {"istio-ca"});
  CAF_CHECK_EQUAL(code3, 201);
  CAF_CHECK(!bad_sig["status"].contains("authenticated"));
  auto [code4, empty] = review("");
  CAF_CHECK_EQUAL(code4, 400);
  CAF_CHECK_EQUAL(empty["reason"], "BadRequest");
}

CAF_TEST(deleted and recreated pods invalidate bound tokens) {
  auto ns = fresh_namespace("tok-pod");
  create(core_path(ns, "pods"), pod("app"));
  auto t = request_token(
    ns, "default",
    json{{"audiences", {"istio-ca"}}, {"boundObjectRef", pod_ref("app")}});
  CAF_REQUIRE_EQUAL(t.status, 201);
  CAF_CHECK_EQUAL(
    review(t.token, {"istio-ca"}).second["status"]["authenticated"], true);
  json grace0{{"gracePeriodSeconds", 0}};
  CAF_CHECK_EQUAL(client().del(core_path(ns, "pods", "app"), grace0).status,
                  200);
  CAF_REQUIRE(eventually(
    [&] { return client().get(core_path(ns, "pods", "app")).status == 404; }));
  // A real server caches successful reviews for about 10 s.
  std::string error;
  CAF_CHECK(eventually([&] {
    auto st = review(t.token, {"istio-ca"}).second["status"];
    error = st.value("error", "");
    return !st.contains("authenticated") && !error.empty();
  }));
  CAF_CHECK_EQUAL(
    error,
    "[invalid bearer token, service account token has been invalidated]");
  // A new pod of the same name has another uid.
  create(core_path(ns, "pods"), pod("app"));
  CAF_CHECK(eventually([&] {
    auto st = review(t.token, {"istio-ca"}).second["status"];
    return !st.contains("authenticated") && !st.value("error", "").empty();
  }));
  // A token for the new pod works.
  auto t2 = request_token(
    ns, "default",
    json{{"audiences", {"istio-ca"}}, {"boundObjectRef", pod_ref("app")}});
  CAF_CHECK_EQUAL(
    review(t2.token, {"istio-ca"}).second["status"]["authenticated"], true);
}

CAF_TEST(a deleted service account invalidates its tokens) {
  auto ns = fresh_namespace("tok-sa");
  create(core_path(ns, "serviceaccounts"),
         json{{"apiVersion", "v1"},
              {"kind", "ServiceAccount"},
              {"metadata", {{"name", "robot"}}}});
  auto t = request_token(ns, "robot", json{{"audiences", {"istio-ca"}}});
  CAF_REQUIRE_EQUAL(t.status, 201);
  CAF_CHECK_EQUAL(
    review(t.token, {"istio-ca"}).second["status"]["authenticated"], true);
  CAF_CHECK_EQUAL(
    client().del(core_path(ns, "serviceaccounts", "robot")).status, 200);
  CAF_CHECK(eventually([&] {
    auto st = review(t.token, {"istio-ca"}).second["status"];
    return !st.contains("authenticated") && !st.value("error", "").empty();
  }));
}

CAF_TEST(token requests check their bound object) {
  auto ns = fresh_namespace("tok-bound");
  create(core_path(ns, "pods"), pod("app"));
  auto wrong_uid = request_token(
    ns, "default",
    json{{"boundObjectRef",
          pod_ref("app", "00000000-0000-0000-0000-000000000000")}});
  CAF_CHECK_EQUAL(wrong_uid.status, 409);
  CAF_CHECK_EQUAL(wrong_uid.response["reason"], "Conflict");
  CAF_CHECK_EQUAL(wrong_uid.response["details"]["kind"], "Pod");
  auto missing
    = request_token(ns, "default", json{{"boundObjectRef", pod_ref("nope")}});
  CAF_CHECK_EQUAL(missing.status, 404);
  CAF_CHECK_EQUAL(missing.response["details"]["kind"], "pods");
  auto no_sa = request_token(ns, "nobody", json::object());
  CAF_CHECK_EQUAL(no_sa.status, 404);
  CAF_CHECK_EQUAL(no_sa.response["details"]["kind"], "serviceaccounts");
  auto short_lived
    = request_token(ns, "default", json{{"expirationSeconds", 10}});
  CAF_CHECK_EQUAL(short_lived.status, 422);
  CAF_CHECK_EQUAL(short_lived.response["reason"], "Invalid");
}

CAF_TEST(service account tokens authenticate api requests) {
  auto ns = fresh_namespace("tok-bearer");
  auto api = request_token(ns, "default", json::object());
  CAF_REQUIRE_EQUAL(api.status, 201);
  auto as_sa = client().with_token(api.token);
  auto r = as_sa.get(core_path(ns, "configmaps"));
  // Authenticated: devcluster authorizes it (200); a real cluster's RBAC
  // may forbid it (403), but never 401.
  CAF_CHECK_NOT_EQUAL(r.status, 401);
  if (cluster().is_devcluster())
    CAF_CHECK_EQUAL(r.status, 200);
  // A token for another audience is not accepted by the API server.
  auto other = request_token(ns, "default", json{{"audiences", {"istio-ca"}}});
  CAF_CHECK_EQUAL(
    client().with_token(other.token).get(core_path(ns, "configmaps")).status,
    401);
}

CAF_TEST(a pod on a node that does not exist gets its name only) {
  auto ns = fresh_namespace("tok-nonode");
  auto body = pod("app");
  body["spec"]["nodeName"] = test_cluster::unique_name("no-such-node");
  create(core_path(ns, "pods"), body);
  auto t = request_token(
    ns, "default",
    json{{"audiences", {"istio-ca"}}, {"boundObjectRef", pod_ref("app")}});
  CAF_REQUIRE_EQUAL(t.status, 201);
  auto node = jwt_claims(t.token)["kubernetes.io"]["node"];
  CAF_CHECK_EQUAL(node["name"], body["spec"]["nodeName"]);
  CAF_CHECK(!node.contains("uid"));
  auto extra = review(t.token, {"istio-ca"}).second["status"]["user"]["extra"];
  CAF_CHECK_EQUAL(extra["authentication.kubernetes.io/node-name"],
                  (json{body["spec"]["nodeName"]}));
  CAF_CHECK(!extra.contains("authentication.kubernetes.io/node-uid"));
}

CAF_TEST(a pod deleted gracefully keeps its tokens valid until it is gone) {
  auto ns = fresh_namespace("tok-grace");
  auto body = pod("app");
  body["spec"]["terminationGracePeriodSeconds"] = 30;
  create(core_path(ns, "pods"), body);
  auto t = request_token(
    ns, "default",
    json{{"audiences", {"istio-ca"}}, {"boundObjectRef", pod_ref("app")}});
  CAF_REQUIRE_EQUAL(t.status, 201);
  auto del = client().del(core_path(ns, "pods", "app"));
  CAF_CHECK_EQUAL(del.status, 200);
  auto deleted = del.json();
  CAF_CHECK_EQUAL(deleted["kind"], "Pod");
  CAF_CHECK(deleted["metadata"].contains("deletionTimestamp"));
  CAF_CHECK_EQUAL(deleted["metadata"]["deletionGracePeriodSeconds"], 30);
  // Still there, terminating, and its token still authenticates.
  CAF_CHECK_EQUAL(client().get(core_path(ns, "pods", "app")).status, 200);
  CAF_CHECK_EQUAL(
    review(t.token, {"istio-ca"}).second["status"]["authenticated"], true);
  // Gone at once when forced (no kubelet on a real test cluster either).
  json grace0{{"gracePeriodSeconds", 0}};
  CAF_CHECK_EQUAL(client().del(core_path(ns, "pods", "app"), grace0).status,
                  200);
  CAF_CHECK(eventually(
    [&] { return client().get(core_path(ns, "pods", "app")).status == 404; }));
}
