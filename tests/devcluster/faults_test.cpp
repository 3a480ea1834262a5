// Fault injection and the admin API (devcluster only).
#define CAF_SUITE devcluster.faults
#include "caf/test/unit_test.hpp"

#include "tests/devcluster/fixture.hpp"

using namespace istio_csr::test;

namespace {

using std::chrono::steady_clock;

http_result set_faults(const json& config) {
  return client().post("/devcluster/v1/faults", config);
}

struct reset_faults {
  ~reset_faults() {
    if (cluster().is_devcluster())
      set_faults(json::object());
  }
};

json rule(std::vector<std::string> verbs, const std::string& ns) {
  return json{
    {"verbs", verbs}, {"resources", {"configmaps"}}, {"namespaces", {ns}}};
}

} // namespace

CAF_TEST(the next requests fail with 500 then succeed) {
  if (!devcluster_only("fault injection"))
    return;
  reset_faults guard;
  auto ns = fresh_namespace("f-500");
  create(core_path(ns, "configmaps"), config_map("c"));
  auto r = rule({"get"}, ns);
  r["error"] = 500;
  r["count"] = 2;
  CAF_REQUIRE_EQUAL(set_faults(json{{"rules", {r}}}).status, 200);
  for (int i = 0; i < 2; ++i) {
    auto failed = client().get(core_path(ns, "configmaps", "c"));
    CAF_CHECK_EQUAL(failed.status, 500);
    CAF_CHECK_EQUAL(failed.json()["reason"], "InternalError");
  }
  CAF_CHECK_EQUAL(client().get(core_path(ns, "configmaps", "c")).status, 200);
  // Lists and other namespaces were never affected; the rule is used up.
  CAF_CHECK_EQUAL(client().get(core_path(ns, "configmaps")).status, 200);
  auto config = client().get("/devcluster/v1/faults").json();
  CAF_CHECK_EQUAL(config["rules"].size(), 0u);
}

CAF_TEST(429 carries a Retry After header) {
  if (!devcluster_only("fault injection"))
    return;
  reset_faults guard;
  auto ns = fresh_namespace("f-429");
  auto r = rule({"create"}, ns);
  r["error"] = 429;
  r["retryAfterSeconds"] = 3;
  r["count"] = 1;
  set_faults(json{{"rules", {r}}});
  auto limited = client().post(core_path(ns, "configmaps"), config_map("c"));
  CAF_CHECK_EQUAL(limited.status, 429);
  CAF_CHECK_EQUAL(limited.header("retry-after"), "3");
  CAF_CHECK_EQUAL(limited.json()["reason"], "TooManyRequests");
  CAF_CHECK_EQUAL(limited.json()["details"]["retryAfterSeconds"], 3);
  // Nothing was created; the retry works.
  CAF_CHECK_EQUAL(client().get(core_path(ns, "configmaps", "c")).status, 404);
  CAF_CHECK_EQUAL(
    client().post(core_path(ns, "configmaps"), config_map("c")).status, 201);
}

CAF_TEST(a rule naming users spares the others) {
  if (!devcluster_only("fault injection"))
    return;
  reset_faults guard;
  auto ns = fresh_namespace("f-users");
  create(core_path(ns, "configmaps"), config_map("c"));
  auto issued
    = client().post(core_path(ns, "serviceaccounts", "default") + "/token",
                    json{{"apiVersion", "authentication.k8s.io/v1"},
                         {"kind", "TokenRequest"},
                         {"spec", json::object()}});
  CAF_REQUIRE_EQUAL(issued.status, 201);
  auto as_sa
    = client().with_token(issued.json()["status"]["token"].get<std::string>());
  auto r = rule({"get"}, ns);
  r["error"] = 500;
  r["users"] = {"system:serviceaccount:" + ns + ":default"};
  CAF_REQUIRE_EQUAL(set_faults(json{{"rules", {r}}}).status, 200);
  CAF_CHECK_EQUAL(as_sa.get(core_path(ns, "configmaps", "c")).status, 500);
  CAF_CHECK_EQUAL(client().get(core_path(ns, "configmaps", "c")).status, 200);
  auto config = client().get("/devcluster/v1/faults").json();
  CAF_CHECK_EQUAL(config["rules"][0]["users"][0],
                  "system:serviceaccount:" + ns + ":default");
}

CAF_TEST(latency delays matching requests) {
  if (!devcluster_only("fault injection"))
    return;
  reset_faults guard;
  auto ns = fresh_namespace("f-latency");
  auto r = rule({"list"}, ns);
  r["latencyMs"] = 400;
  set_faults(json{{"rules", {r}}});
  auto start = steady_clock::now();
  CAF_CHECK_EQUAL(client().get(core_path(ns, "configmaps")).status, 200);
  CAF_CHECK_GREATER_OR_EQUAL(steady_clock::now() - start, 400ms);
}

CAF_TEST(probabilistic faults follow the seed) {
  if (!devcluster_only("fault injection"))
    return;
  reset_faults guard;
  auto ns = fresh_namespace("f-seed");
  auto r = rule({"list"}, ns);
  r["error"] = 503;
  r["probability"] = 0.5;
  auto pattern = [&] {
    set_faults(json{{"seed", 42}, {"rules", {r}}});
    std::string out;
    for (int i = 0; i < 24; ++i)
      out
        += client().get(core_path(ns, "configmaps")).status == 503 ? 'x' : '.';
    return out;
  };
  auto first = pattern();
  CAF_CHECK_EQUAL(first, pattern());
  CAF_CHECK(first.find('x') != std::string::npos);
  CAF_CHECK(first.find('.') != std::string::npos);
}

CAF_TEST(watches drop after n events or t seconds) {
  if (!devcluster_only("fault injection"))
    return;
  reset_faults guard;
  auto ns = fresh_namespace("f-watch");
  auto path = core_path(ns, "configmaps");
  set_faults(json{{"watch", {{"dropAfterEvents", 2}}}});
  auto rv = client()
              .get(path)
              .json()["metadata"]["resourceVersion"]
              .get<std::string>();
  auto s = client().stream(path + "?watch=1&resourceVersion=" + rv);
  CAF_REQUIRE(s != nullptr);
  for (auto* n : {"a", "b", "c"})
    create(path, config_map(n));
  CAF_CHECK(s->next(10s));
  CAF_CHECK(s->next(10s));
  CAF_CHECK(!s->next(1s));
  CAF_CHECK(s->wait_end(10s));
  set_faults(json{{"watch", {{"dropAfterSeconds", 0.5}}}});
  auto start = steady_clock::now();
  auto timed = client().stream(path + "?watch=1&resourceVersion=" + rv);
  CAF_REQUIRE(timed != nullptr);
  CAF_CHECK(timed->wait_end(10s));
  CAF_CHECK_GREATER_OR_EQUAL(steady_clock::now() - start, 450ms);
}

CAF_TEST(dropping watches ends every stream) {
  if (!devcluster_only("the admin API"))
    return;
  auto ns = fresh_namespace("f-drop");
  auto path = core_path(ns, "configmaps");
  auto s1 = client().stream(path + "?watch=1");
  auto s2 = client().stream(path + "?watch=1");
  CAF_REQUIRE(s1 && s2);
  CAF_CHECK(s1->next(10s)); // kube-root-ca.crt
  auto dropped = client().post("/devcluster/v1/drop-watches", json::object());
  CAF_CHECK_EQUAL(dropped.status, 200);
  CAF_CHECK_GREATER_OR_EQUAL(dropped.json()["dropped"].get<int>(), 2);
  CAF_CHECK(s1->wait_end(10s));
  CAF_CHECK(s2->wait_end(10s));
  auto stats = client().get("/devcluster/v1/stats").json();
  CAF_CHECK(stats["resourceVersion"].is_string());
  CAF_CHECK(stats["objects"]["configmaps"].get<int>() > 0);
}

CAF_TEST(the admin API needs the admin token and valid input) {
  if (!devcluster_only("the admin API"))
    return;
  auto ns = fresh_namespace("f-admin");
  auto token
    = client().post(core_path(ns, "serviceaccounts", "default") + "/token",
                    json{{"spec", json::object()}});
  CAF_REQUIRE_EQUAL(token.status, 201);
  auto as_sa
    = client().with_token(token.json()["status"]["token"].get<std::string>());
  CAF_CHECK_EQUAL(as_sa.get("/devcluster/v1/faults").status, 403);
  CAF_CHECK_EQUAL(client().with_token("").get("/devcluster/v1/faults").status,
                  403);
  auto bad = set_faults(json{{"rules", {{{"error", 418}}}}});
  CAF_CHECK_EQUAL(bad.status, 400);
  auto not_json = client().request("POST", "/devcluster/v1/faults", "{");
  CAF_CHECK_EQUAL(not_json.status, 400);
}

CAF_TEST(one admin request creates many objects as single creates do) {
  if (!devcluster_only("the admin API"))
    return;
  auto ns = "bulk-" + test_cluster::unique_name("ns");
  auto cm = config_map("c", {}, {{"k", "v"}});
  cm["apiVersion"] = "v1";
  cm["kind"] = "ConfigMap";
  cm["metadata"]["namespace"] = ns;
  json items{
    {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}},
    cm};
  auto created
    = client().post("/devcluster/v1/objects", json{{"items", items}});
  CAF_REQUIRE_EQUAL(created.status, 200);
  CAF_CHECK_EQUAL(created.json()["created"].get<int>(), 2);
  CAF_CHECK_EQUAL(client().get(core_path(ns, "configmaps", "c")).json()["data"],
                  json({{"k", "v"}}));
  // What a new namespace gets when created alone.
  CAF_CHECK_EQUAL(
    client().get(core_path(ns, "configmaps", "kube-root-ca.crt")).status, 200);
  CAF_CHECK_EQUAL(
    client().get(core_path(ns, "serviceaccounts", "default")).status, 200);
  // The first failure ends the request with its status; earlier items stay.
  auto cm2 = cm;
  cm2["metadata"]["name"] = "c2";
  auto again
    = client().post("/devcluster/v1/objects", json{{"items", {cm2, cm}}});
  CAF_CHECK_EQUAL(again.status, 409);
  CAF_CHECK_EQUAL(client().get(core_path(ns, "configmaps", "c2")).status, 200);
  auto unknown = cm;
  unknown["kind"] = "Gadget";
  CAF_CHECK_EQUAL(
    client().post("/devcluster/v1/objects", json{{"items", {unknown}}}).status,
    400);
  CAF_CHECK_EQUAL(
    client().post("/devcluster/v1/objects", json{{"items", 1}}).status, 400);
  CAF_CHECK_EQUAL(client().get("/devcluster/v1/objects").status, 405);
}

CAF_TEST(faults can be configured at start) {
  if (!devcluster_only("fault injection"))
    return;
  auto other = test_cluster::start(
    {"--faults",
     R"({"rules":[{"verbs":["list"],"resources":["namespaces"],"error":503,"count":1}]})"});
  CAF_REQUIRE(other != nullptr);
  https_client c{kube_access::of(*other)};
  CAF_CHECK_EQUAL(c.get("/api/v1/namespaces").status, 503);
  CAF_CHECK_EQUAL(c.get("/api/v1/namespaces").status, 200);
}
