// Exact status codes and bodies of object requests, by raw HTTPS.
#define CAF_SUITE devcluster.api
#include "caf/test/unit_test.hpp"
#include "tests/support/skip.hpp"

#include <regex>

#include "devcluster/crypto.hpp"
#include "tests/devcluster/fixture.hpp"

using namespace istio_csr::test;

namespace {

json status_of(const http_result& r) {
  auto j = r.json();
  if (!j.is_object())
    CAF_MESSAGE("not JSON: " << r.body << r.error);
  return j;
}

void check_status(const http_result& r, int code, const std::string& reason) {
  CAF_CHECK_EQUAL(r.status, code);
  auto s = status_of(r);
  CAF_CHECK_EQUAL(s["kind"], "Status");
  CAF_CHECK_EQUAL(s["apiVersion"], "v1");
  CAF_CHECK_EQUAL(s["status"], "Failure");
  CAF_CHECK_EQUAL(s["reason"], reason);
  CAF_CHECK_EQUAL(s["code"], code);
  if (s["reason"] != reason)
    CAF_MESSAGE("body: " << r.body);
}

json certificate_request(const std::string& name) {
  // An issuer of another group: cert-manager leaves the request alone.
  return json{
    {"apiVersion", "cert-manager.io/v1"},
    {"kind", "CertificateRequest"},
    {"metadata", {{"name", name}}},
    {"spec",
     {{"request",
       istio_csr::devcluster::base64_encode(make_csr_pem("example.com"))},
      {"issuerRef",
       {{"name", "nobody"}, {"kind", "Issuer"}, {"group", "example.com"}}}}}};
}

} // namespace

CAF_TEST(not found answers a Status with details) {
  auto ns = fresh_namespace("api-404");
  auto r = client().get(core_path(ns, "configmaps", "nope"));
  check_status(r, 404, "NotFound");
  auto s = status_of(r);
  CAF_CHECK_EQUAL(s["message"], "configmaps \"nope\" not found");
  CAF_CHECK_EQUAL(s["details"],
                  (json{{"name", "nope"}, {"kind", "configmaps"}}));
  auto cr = client().get(
    group_path("cert-manager.io/v1", ns, "certificaterequests", "nope"));
  check_status(cr, 404, "NotFound");
  CAF_CHECK_EQUAL(status_of(cr)["message"],
                  "certificaterequests.cert-manager.io \"nope\" not found");
  CAF_CHECK_EQUAL(status_of(cr)["details"],
                  (json{{"name", "nope"},
                        {"group", "cert-manager.io"},
                        {"kind", "certificaterequests"}}));
}

CAF_TEST(create sets server fields and a duplicate is AlreadyExists) {
  auto ns = fresh_namespace("api-create");
  auto a
    = create(core_path(ns, "configmaps"), config_map("a", {}, {{"k", "v"}}));
  CAF_CHECK_EQUAL(a["kind"], "ConfigMap");
  CAF_CHECK_EQUAL(a["apiVersion"], "v1");
  CAF_CHECK_EQUAL(a["metadata"]["namespace"], ns);
  std::regex uuid{
    "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"};
  CAF_CHECK(std::regex_match(a["metadata"]["uid"].get<std::string>(), uuid));
  std::regex rfc3339{"\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ"};
  CAF_CHECK(std::regex_match(
    a["metadata"]["creationTimestamp"].get<std::string>(), rfc3339));
  CAF_CHECK(a["metadata"]["resourceVersion"].is_string());
  CAF_CHECK_GREATER(rv_of(a), 0u);
  CAF_CHECK(!a["metadata"].contains("generation"));
  auto b = create(core_path(ns, "configmaps"), config_map("b"));
  CAF_CHECK_GREATER(rv_of(b), rv_of(a));
  auto dup = client().post(core_path(ns, "configmaps"), config_map("a"));
  check_status(dup, 409, "AlreadyExists");
  CAF_CHECK_EQUAL(status_of(dup)["message"], "configmaps \"a\" already exists");
  CAF_CHECK_EQUAL(status_of(dup)["details"],
                  (json{{"name", "a"}, {"kind", "configmaps"}}));
  // generateName: the prefix and five random characters.
  json gen = config_map("");
  gen["metadata"].erase("name");
  gen["metadata"]["generateName"] = "gen-";
  auto g = create(core_path(ns, "configmaps"), gen);
  auto name = g["metadata"]["name"].get<std::string>();
  CAF_CHECK(std::regex_match(name, std::regex{"gen-[a-z0-9]{5}"}));
  auto g2 = create(core_path(ns, "configmaps"), gen);
  CAF_CHECK_NOT_EQUAL(g2["metadata"]["name"], g["metadata"]["name"]);
  // Neither name nor generateName.
  auto anonymous = config_map("");
  anonymous["metadata"].erase("name");
  auto missing = client().post(core_path(ns, "configmaps"), anonymous);
  check_status(missing, 422, "Invalid");
}

CAF_TEST(stale updates and patches conflict) {
  auto ns = fresh_namespace("api-conflict");
  auto v1
    = create(core_path(ns, "configmaps"), config_map("c", {}, {{"k", "1"}}));
  auto v2_body = v1;
  v2_body["data"]["k"] = "2";
  auto v2 = client().put(core_path(ns, "configmaps", "c"), v2_body);
  CAF_REQUIRE_EQUAL(v2.status, 200);
  CAF_CHECK_GREATER(rv_of(v2.json()), rv_of(v1));
  CAF_CHECK_EQUAL(v2.json()["metadata"]["uid"], v1["metadata"]["uid"]);
  // The same update again is stale.
  auto stale = client().put(core_path(ns, "configmaps", "c"), v2_body);
  check_status(stale, 409, "Conflict");
  CAF_CHECK_EQUAL(status_of(stale)["message"],
                  "Operation cannot be fulfilled on configmaps \"c\": the "
                  "object has been modified; please apply your changes to the "
                  "latest version and try again");
  CAF_CHECK_EQUAL(status_of(stale)["details"],
                  (json{{"name", "c"}, {"kind", "configmaps"}}));
  // A merge patch carrying an old resourceVersion.
  auto stale_patch = client().merge_patch(
    core_path(ns, "configmaps", "c"),
    json{{"metadata", {{"resourceVersion", v1["metadata"]["resourceVersion"]}}},
         {"data", {{"k", "3"}}}});
  check_status(stale_patch, 409, "Conflict");
  // Without a resourceVersion: unconditional.
  auto patched = client().merge_patch(core_path(ns, "configmaps", "c"),
                                      json{{"data", {{"k", "3"}}}});
  CAF_CHECK_EQUAL(patched.status, 200);
  CAF_CHECK_EQUAL(patched.json()["data"]["k"], "3");
  auto unconditional = v1;
  unconditional["metadata"].erase("resourceVersion");
  unconditional["data"]["k"] = "4";
  auto put = client().put(core_path(ns, "configmaps", "c"), unconditional);
  CAF_CHECK_EQUAL(put.status, 200);
  CAF_CHECK_EQUAL(put.json()["data"]["k"], "4");
  // A no-op update keeps the resourceVersion.
  auto same = client().put(core_path(ns, "configmaps", "c"), put.json());
  CAF_CHECK_EQUAL(same.status, 200);
  CAF_CHECK_EQUAL(rv_of(same.json()), rv_of(put.json()));
  // Update of a missing ConfigMap.
  auto missing
    = client().put(core_path(ns, "configmaps", "nope"), config_map("nope"));
  check_status(missing, 404, "NotFound");
  // The URL and the body must name the same object.
  auto mismatch
    = client().put(core_path(ns, "configmaps", "c"), config_map("other"));
  check_status(mismatch, 400, "BadRequest");
}

CAF_TEST(invalid names are 422 with causes) {
  auto ns = fresh_namespace("api-invalid");
  auto r = client().post(core_path(ns, "configmaps"), config_map("Bad_Name"));
  check_status(r, 422, "Invalid");
  auto s = status_of(r);
  CAF_CHECK(s["message"].get<std::string>().starts_with(
    "ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: "
    "\"Bad_Name\": a lowercase RFC 1123 subdomain must consist of"));
  CAF_CHECK_EQUAL(s["details"]["name"], "Bad_Name");
  CAF_CHECK_EQUAL(s["details"]["kind"], "ConfigMap");
  CAF_REQUIRE_EQUAL(s["details"]["causes"].size(), 1u);
  CAF_CHECK_EQUAL(s["details"]["causes"][0]["reason"], "FieldValueInvalid");
  CAF_CHECK_EQUAL(s["details"]["causes"][0]["field"], "metadata.name");
  // A namespace name that is not a label value either: two causes.
  auto bad_ns = client().post("/api/v1/namespaces",
                              json{{"apiVersion", "v1"},
                                   {"kind", "Namespace"},
                                   {"metadata", {{"name", "-bad-"}}}});
  check_status(bad_ns, 422, "Invalid");
  auto causes = status_of(bad_ns)["details"]["causes"];
  CAF_REQUIRE_EQUAL(causes.size(), 2u);
  CAF_CHECK_EQUAL(causes[0]["field"], "metadata.name");
  CAF_CHECK_EQUAL(causes[1]["field"], "metadata.labels");
  // Label values are validated too.
  auto bad_label = client().post(core_path(ns, "configmaps"),
                                 config_map("ok", {{"app", "-x"}}));
  check_status(bad_label, 422, "Invalid");
  CAF_CHECK_EQUAL(status_of(bad_label)["details"]["causes"][0]["field"],
                  "metadata.labels");
}

CAF_TEST(patch content types) {
  auto ns = fresh_namespace("api-patch");
  create(core_path(ns, "configmaps"), config_map("p", {}, {{"k", "v"}}));
  auto text = client().request("PATCH", core_path(ns, "configmaps", "p"),
                               R"({"data":{"k":"w"}})", "text/plain");
  check_status(text, 415, "UnsupportedMediaType");
  // Strategic merge patch, as kubectl label sends it.
  auto smp = client().request("PATCH", core_path(ns, "configmaps", "p"),
                              R"({"metadata":{"labels":{"a":"b"}}})",
                              "application/strategic-merge-patch+json");
  CAF_CHECK_EQUAL(smp.status, 200);
  CAF_CHECK_EQUAL(smp.json()["metadata"]["labels"]["a"], "b");
  // JSON patch, and a failing test operation.
  auto jp
    = client().request("PATCH", core_path(ns, "configmaps", "p"),
                       R"([{"op":"test","path":"/data/k","value":"v"},)"
                       R"({"op":"replace","path":"/data/k","value":"x"}])",
                       "application/json-patch+json");
  CAF_CHECK_EQUAL(jp.status, 200);
  CAF_CHECK_EQUAL(jp.json()["data"]["k"], "x");
  auto failed
    = client().request("PATCH", core_path(ns, "configmaps", "p"),
                       R"([{"op":"test","path":"/data/k","value":"nope"}])",
                       "application/json-patch+json");
  check_status(failed, 422, "Invalid");
  // Merge patch removing a key.
  auto removed = client().merge_patch(core_path(ns, "configmaps", "p"),
                                      json{{"data", {{"k", nullptr}}}});
  CAF_CHECK_EQUAL(removed.status, 200);
  CAF_CHECK(!removed.json().contains("data")
            || !removed.json()["data"].contains("k"));
  // Custom resources take no strategic merge patch.
  create(group_path("cert-manager.io/v1", ns, "issuers"),
         json{{"apiVersion", "cert-manager.io/v1"},
              {"kind", "Issuer"},
              {"metadata", {{"name", "i"}}},
              {"spec", {{"selfSigned", json::object()}}}});
  auto cr_smp = client().request(
    "PATCH", group_path("cert-manager.io/v1", ns, "issuers", "i"),
    R"({"metadata":{"labels":{"a":"b"}}})",
    "application/strategic-merge-patch+json");
  check_status(cr_smp, 415, "UnsupportedMediaType");
  // Patching a missing object.
  auto missing = client().merge_patch(core_path(ns, "configmaps", "nope"),
                                      json{{"data", {{"k", "v"}}}});
  check_status(missing, 404, "NotFound");
}

CAF_TEST(list items carry kind only for custom resources) {
  auto ns = fresh_namespace("api-list");
  create(core_path(ns, "configmaps"), config_map("a"));
  auto list = client().get(core_path(ns, "configmaps")).json();
  CAF_CHECK_EQUAL(list["kind"], "ConfigMapList");
  CAF_CHECK_EQUAL(list["apiVersion"], "v1");
  CAF_CHECK(list["metadata"]["resourceVersion"].is_string());
  CAF_REQUIRE_GREATER(list["items"].size(), 0u);
  for (auto& item : list["items"]) {
    CAF_CHECK(!item.contains("kind"));
    CAF_CHECK(!item.contains("apiVersion"));
  }
  create(group_path("cert-manager.io/v1", ns, "issuers"),
         json{{"apiVersion", "cert-manager.io/v1"},
              {"kind", "Issuer"},
              {"metadata", {{"name", "i"}}},
              {"spec", {{"selfSigned", json::object()}}}});
  auto issuers
    = client().get(group_path("cert-manager.io/v1", ns, "issuers")).json();
  CAF_CHECK_EQUAL(issuers["kind"], "IssuerList");
  CAF_CHECK_EQUAL(issuers["apiVersion"], "cert-manager.io/v1");
  CAF_REQUIRE_EQUAL(issuers["items"].size(), 1u);
  CAF_CHECK_EQUAL(issuers["items"][0]["kind"], "Issuer");
  CAF_CHECK_EQUAL(issuers["items"][0]["apiVersion"], "cert-manager.io/v1");
  CAF_CHECK_EQUAL(issuers["items"][0]["metadata"]["generation"], 1);
}

CAF_TEST(paging keeps the resourceVersion of the first page) {
  auto ns = fresh_namespace("api-page");
  for (auto* n : {"p1", "p2", "p3", "p4", "p5"})
    create(core_path(ns, "configmaps"), config_map(n, {{"page", "yes"}}));
  // Six objects with the namespace's kube-root-ca.crt.
  auto base = core_path(ns, "configmaps");
  auto first = client().get(base + "?limit=2").json();
  CAF_REQUIRE_EQUAL(first["items"].size(), 2u);
  auto rv = first["metadata"]["resourceVersion"];
  CAF_REQUIRE(first["metadata"].contains("continue"));
  CAF_CHECK_EQUAL(first["metadata"]["remainingItemCount"], 4);
  std::vector<std::string> names;
  for (auto& i : first["items"])
    names.push_back(i["metadata"]["name"]);
  // A write between pages (sorting after the pages' start) shows up in no
  // page: pages are consistent at the first page's resourceVersion.
  create(core_path(ns, "configmaps"), config_map("p9", {{"page", "yes"}}));
  auto token = first["metadata"]["continue"].get<std::string>();
  int pages = 1;
  while (!token.empty()) {
    auto page = client().get(base + "?limit=2&continue=" + token).json();
    CAF_REQUIRE(page.contains("items"));
    CAF_CHECK_EQUAL(page["metadata"]["resourceVersion"], rv);
    for (auto& i : page["items"])
      names.push_back(i["metadata"]["name"]);
    token = page["metadata"].value("continue", "");
    if (++pages > 10)
      break;
  }
  CAF_CHECK_EQUAL(pages, 3);
  CAF_CHECK_EQUAL(names, (std::vector<std::string>{"kube-root-ca.crt", "p1",
                                                   "p2", "p3", "p4", "p5"}));
  // With a label selector: no remainingItemCount.
  auto selected
    = client().get(base + "?limit=2&labelSelector=page%3Dyes").json();
  CAF_CHECK_EQUAL(selected["items"].size(), 2u);
  CAF_CHECK(selected["metadata"].contains("continue"));
  CAF_CHECK(!selected["metadata"].contains("remainingItemCount"));
  // resourceVersion=0: limit is ignored.
  auto cached = client().get(base + "?limit=2&resourceVersion=0").json();
  CAF_CHECK_EQUAL(cached["items"].size(), 7u);
  CAF_CHECK(!cached["metadata"].contains("continue"));
}

CAF_TEST(selectors filter lists) {
  auto ns = fresh_namespace("api-select");
  create(core_path(ns, "configmaps"), config_map("a", {{"app", "x"}}));
  create(core_path(ns, "configmaps"),
         config_map("b", {{"app", "y"}, {"tier", "db"}}));
  create(core_path(ns, "configmaps"), config_map("c"));
  auto names = [&](const std::string& query) {
    std::vector<std::string> out;
    auto list = client().get(core_path(ns, "configmaps") + "?" + query).json();
    for (auto& i : list["items"])
      out.push_back(i["metadata"]["name"]);
    return out;
  };
  using v = std::vector<std::string>;
  CAF_CHECK_EQUAL(names("labelSelector=app%3Dx"), (v{"a"}));
  CAF_CHECK_EQUAL(names("labelSelector=app%20in%20(x%2Cy)"), (v{"a", "b"}));
  CAF_CHECK_EQUAL(names("labelSelector=app%2C!tier"), (v{"a"}));
  CAF_CHECK_EQUAL(names("labelSelector=app!%3Dx"),
                  (v{"b", "c", "kube-root-ca.crt"}));
  CAF_CHECK_EQUAL(names("fieldSelector=metadata.name%3Db"), (v{"b"}));
  CAF_CHECK_EQUAL(names("fieldSelector=metadata.name!%3Db&labelSelector=app"),
                  (v{"a"}));
  auto unsupported
    = client().get(core_path(ns, "configmaps") + "?fieldSelector=spec.foo%3Dx");
  check_status(unsupported, 400, "BadRequest");
  auto bad_label
    = client().get(core_path(ns, "configmaps") + "?labelSelector=a%20in%20(");
  check_status(bad_label, 400, "BadRequest");
  // Pod fields a real server supports.
  create(core_path(ns, "pods"), pod("p"));
  auto pods = client()
                .get(core_path(ns, "pods")
                     + "?fieldSelector=spec.serviceAccountName%3Ddefault")
                .json();
  CAF_CHECK_EQUAL(pods["items"].size(), 1u);
  auto none = client()
                .get(core_path(ns, "pods") + "?fieldSelector=spec.nodeName%3D"
                     + node_name() + "x")
                .json();
  CAF_CHECK_EQUAL(none["items"].size(), 0u);
}

CAF_TEST(delete answers per kind) {
  auto ns = fresh_namespace("api-delete");
  auto cm = create(core_path(ns, "configmaps"), config_map("c"));
  auto del = client().del(core_path(ns, "configmaps", "c"));
  CAF_CHECK_EQUAL(del.status, 200);
  auto s = del.json();
  CAF_CHECK_EQUAL(s["kind"], "Status");
  CAF_CHECK_EQUAL(s["status"], "Success");
  CAF_CHECK_EQUAL(s["details"]["name"], "c");
  CAF_CHECK_EQUAL(s["details"]["kind"], "configmaps");
  CAF_CHECK_EQUAL(s["details"]["uid"], cm["metadata"]["uid"]);
  check_status(client().del(core_path(ns, "configmaps", "c")), 404, "NotFound");
  // A pod: the Pod itself.
  create(core_path(ns, "pods"), pod("p"));
  auto pod_del = client().del(core_path(ns, "pods", "p"));
  CAF_CHECK_EQUAL(pod_del.status, 200);
  CAF_CHECK_EQUAL(pod_del.json()["kind"], "Pod");
  CAF_CHECK_EQUAL(pod_del.json()["metadata"]["name"], "p");
  // Preconditions.
  auto d = create(core_path(ns, "configmaps"), config_map("d"));
  auto wrong_uid = client().del(core_path(ns, "configmaps", "d"),
                                json{{"kind", "DeleteOptions"},
                                     {"apiVersion", "v1"},
                                     {"preconditions", {{"uid", "wrong"}}}});
  check_status(wrong_uid, 409, "Conflict");
  CAF_CHECK(status_of(wrong_uid)["message"].get<std::string>().starts_with(
    "Operation cannot be fulfilled on ConfigMap \"d\": the UID in the "
    "precondition (wrong) does not match the UID in record ("));
  CAF_CHECK_EQUAL(status_of(wrong_uid)["details"]["kind"], "ConfigMap");
  auto wrong_rv
    = client().del(core_path(ns, "configmaps", "d"),
                   json{{"preconditions", {{"resourceVersion", "1"}}}});
  check_status(wrong_rv, 409, "Conflict");
  auto right = client().del(
    core_path(ns, "configmaps", "d"),
    json{{"preconditions",
          {{"uid", d["metadata"]["uid"]},
           {"resourceVersion", d["metadata"]["resourceVersion"]}}}});
  CAF_CHECK_EQUAL(right.status, 200);
  // A namespace: the Namespace, Terminating.
  auto ns_del = client().del("/api/v1/namespaces/" + ns);
  CAF_CHECK_EQUAL(ns_del.status, 200);
  CAF_CHECK_EQUAL(ns_del.json()["kind"], "Namespace");
  CAF_CHECK_EQUAL(ns_del.json()["status"]["phase"], "Terminating");
  CAF_CHECK(ns_del.json()["metadata"]["deletionTimestamp"].is_string());
  // Some namespaces cannot be deleted.
  check_status(client().del("/api/v1/namespaces/default"), 403, "Forbidden");
}

CAF_TEST(creating in a missing or terminating namespace) {
  auto missing = client().post(core_path("no-such-namespace-x1", "configmaps"),
                               config_map("c"));
  check_status(missing, 404, "NotFound");
  CAF_CHECK_EQUAL(
    status_of(missing)["details"],
    (json{{"name", "no-such-namespace-x1"}, {"kind", "namespaces"}}));
  auto ns = fresh_namespace("api-term");
  auto held = config_map("held");
  held["metadata"]["finalizers"] = {"example.com/hold"};
  create(core_path(ns, "configmaps"), held);
  CAF_CHECK_EQUAL(client().del("/api/v1/namespaces/" + ns).status, 200);
  auto refused = client().post(core_path(ns, "configmaps"), config_map("late"));
  check_status(refused, 403, "Forbidden");
  CAF_CHECK(status_of(refused)["message"].get<std::string>().find(
              "because it is being terminated")
            != std::string::npos);
  // The namespace controller marks what it cannot delete yet.
  CAF_CHECK(eventually([&] {
    auto r = client().get(core_path(ns, "configmaps", "held")).json();
    return r["metadata"].contains("deletionTimestamp");
  }));
  CAF_CHECK(eventually([&] {
    return client().get(core_path(ns, "configmaps", "kube-root-ca.crt")).status
           == 404;
  }));
  CAF_CHECK_EQUAL(client().get("/api/v1/namespaces/" + ns).status, 200);
  // Releasing the finalizer lets the namespace go.
  auto released
    = client().merge_patch(core_path(ns, "configmaps", "held"),
                           json{{"metadata", {{"finalizers", nullptr}}}});
  CAF_CHECK_EQUAL(released.status, 200);
  CAF_CHECK(eventually(
    [&] { return client().get("/api/v1/namespaces/" + ns).status == 404; }));
}

CAF_TEST(finalizers delay deletion) {
  auto ns = fresh_namespace("api-final");
  auto body = config_map("f");
  body["metadata"]["finalizers"] = {"example.com/x"};
  create(core_path(ns, "configmaps"), body);
  auto del = client().del(core_path(ns, "configmaps", "f"));
  CAF_CHECK_EQUAL(del.status, 200);
  CAF_CHECK_EQUAL(del.json()["kind"], "ConfigMap");
  CAF_CHECK(del.json()["metadata"]["deletionTimestamp"].is_string());
  auto still = client().get(core_path(ns, "configmaps", "f"));
  CAF_CHECK_EQUAL(still.status, 200);
  auto added = client().merge_patch(
    core_path(ns, "configmaps", "f"),
    json{{"metadata", {{"finalizers", {"example.com/x", "example.com/y"}}}}});
  check_status(added, 422, "Invalid");
  auto done
    = client().merge_patch(core_path(ns, "configmaps", "f"),
                           json{{"metadata", {{"finalizers", json::array()}}}});
  CAF_CHECK_EQUAL(done.status, 200);
  CAF_CHECK(eventually([&] {
    return client().get(core_path(ns, "configmaps", "f")).status == 404;
  }));
}

CAF_TEST(status subresource of certificate requests) {
  auto ns = fresh_namespace("api-status");
  auto path = group_path("cert-manager.io/v1", ns, "certificaterequests");
  auto cr = create(path, certificate_request("cr"));
  CAF_CHECK_EQUAL(cr["metadata"]["generation"], 1);
  // cert-manager's webhook fills the requester in, not the API server.
  if (cluster().has_cert_manager_webhook())
    CAF_CHECK(!cr["spec"].value("username", "").empty());
  // /status ignores spec and label changes.
  auto update = cr;
  update["status"] = {{"conditions",
                       {{{"type", "Ready"},
                         {"status", "False"},
                         {"reason", "Pending"},
                         {"message", "test"}}}}};
  update["spec"]["isCA"] = true;
  update["metadata"]["labels"] = {{"via", "status"}};
  auto after = client().put(path + "/cr/status", update);
  CAF_REQUIRE_EQUAL(after.status, 200);
  auto a = after.json();
  CAF_CHECK_EQUAL(a["status"]["conditions"][0]["reason"], "Pending");
  CAF_CHECK(!a["spec"].value("isCA", false));
  CAF_CHECK(!a["metadata"].contains("labels"));
  CAF_CHECK_EQUAL(a["metadata"]["generation"], 1);
  // The same (now stale) /status update conflicts.
  check_status(client().put(path + "/cr/status", update), 409, "Conflict");
  // The main resource ignores status.
  auto main = a;
  main["status"] = {{"conditions", json::array()}};
  main["metadata"]["labels"] = {{"via", "main"}};
  auto m = client().put(path + "/cr", main);
  CAF_REQUIRE_EQUAL(m.status, 200);
  CAF_CHECK_EQUAL(m.json()["metadata"]["labels"]["via"], "main");
  CAF_CHECK_EQUAL(m.json()["status"]["conditions"][0]["reason"], "Pending");
  CAF_CHECK_EQUAL(m.json()["metadata"]["generation"], 1);
  // A status merge patch.
  auto patched = client().merge_patch(
    path + "/cr/status",
    json{{"status", {{"failureTime", "2024-01-01T00:00:00Z"}}}});
  CAF_CHECK_EQUAL(patched.status, 200);
  CAF_CHECK_EQUAL(patched.json()["status"]["failureTime"],
                  "2024-01-01T00:00:00Z");
  auto del = client().del(path + "/cr");
  CAF_CHECK_EQUAL(del.json()["status"], "Success");
  CAF_CHECK_EQUAL(del.json()["details"]["kind"], "certificaterequests");
  CAF_CHECK_EQUAL(del.json()["details"]["group"], "cert-manager.io");
}

CAF_TEST(the cert manager webhook checks certificate requests) {
  if (!cluster().has_cert_manager_webhook()) {
    ICSR_SKIP("the cluster runs no cert-manager webhook");
    return;
  }
  auto ns = fresh_namespace("api-webhook");
  auto path = group_path("cert-manager.io/v1", ns, "certificaterequests");
  auto garbage = certificate_request("garbage");
  garbage["spec"]["request"] = istio_csr::devcluster::base64_encode("nope");
  auto r = client().post(path, garbage);
  CAF_CHECK_EQUAL(r.status, 406);
  CAF_CHECK(status_of(r)["message"].get<std::string>().starts_with(
    "admission webhook \"webhook.cert-manager.io\" denied the request"));
  auto impostor = certificate_request("impostor");
  impostor["spec"]["username"] = "someone-else";
  auto denied = client().post(path, impostor);
  CAF_CHECK_EQUAL(denied.status, 406);
  CAF_CHECK(status_of(denied)["message"].get<std::string>().find(
              "username identity must be that of the requester")
            != std::string::npos);
}

CAF_TEST(generation follows spec changes only) {
  auto ns = fresh_namespace("api-gen");
  auto path = group_path("cert-manager.io/v1", ns, "certificates");
  auto cert = create(path, json{{"apiVersion", "cert-manager.io/v1"},
                                {"kind", "Certificate"},
                                {"metadata", {{"name", "c"}}},
                                {"spec",
                                 {{"secretName", "c-tls"},
                                  {"dnsNames", {"a.example.com"}},
                                  {"issuerRef",
                                   {{"name", "nobody"},
                                    {"kind", "Issuer"},
                                    {"group", "example.com"}}}}}});
  CAF_CHECK_EQUAL(cert["metadata"]["generation"], 1);
  auto spec = client().merge_patch(
    path + "/c", json{{"spec", {{"dnsNames", {"b.example.com"}}}}});
  CAF_CHECK_EQUAL(spec.json()["metadata"]["generation"], 2);
  auto labels = client().merge_patch(
    path + "/c", json{{"metadata", {{"labels", {{"a", "b"}}}}}});
  CAF_CHECK_EQUAL(labels.json()["metadata"]["generation"], 2);
  auto status = client().merge_patch(path + "/c/status",
                                     json{{"status", {{"revision", 7}}}});
  CAF_CHECK_EQUAL(status.status, 200);
  CAF_CHECK_EQUAL(status.json()["metadata"]["generation"], 2);
}

CAF_TEST(leases keep MicroTime and conflict when stale) {
  auto ns = fresh_namespace("api-lease");
  auto path = group_path("coordination.k8s.io/v1", ns, "leases");
  json lease{{"apiVersion", "coordination.k8s.io/v1"},
             {"kind", "Lease"},
             {"metadata", {{"name", "leader"}}},
             {"spec",
              {{"holderIdentity", "me"},
               {"leaseDurationSeconds", 15},
               {"acquireTime", "2024-05-01T10:00:00.123456Z"},
               {"renewTime", "2024-05-01T10:00:05.000001Z"},
               {"leaseTransitions", 0}}}};
  auto created = create(path, lease);
  CAF_CHECK_EQUAL(created["spec"]["acquireTime"],
                  "2024-05-01T10:00:00.123456Z");
  CAF_CHECK_EQUAL(created["spec"]["renewTime"], "2024-05-01T10:00:05.000001Z");
  auto got = client().get(path + "/leader").json();
  CAF_CHECK_EQUAL(got["spec"], created["spec"]);
  auto renewed = created;
  renewed["spec"]["renewTime"] = "2024-05-01T10:00:10.500000Z";
  auto ok = client().put(path + "/leader", renewed);
  CAF_CHECK_EQUAL(ok.status, 200);
  CAF_CHECK_EQUAL(ok.json()["spec"]["renewTime"],
                  "2024-05-01T10:00:10.500000Z");
  check_status(client().put(path + "/leader", renewed), 409, "Conflict");
}

CAF_TEST(events are accepted and listed) {
  auto ns = fresh_namespace("api-events");
  json event{{"apiVersion", "v1"},
             {"kind", "Event"},
             {"metadata", {{"name", "e1"}}},
             {"involvedObject",
              {{"kind", "ConfigMap"}, {"namespace", ns}, {"name", "x"}}},
             {"reason", "Tested"},
             {"message", "hello"},
             {"type", "Normal"},
             {"source", {{"component", "devcluster-test"}}},
             {"count", 1}};
  create(core_path(ns, "events"), event);
  auto list
    = client()
        .get(core_path(ns, "events") + "?fieldSelector=involvedObject.name%3Dx")
        .json();
  CAF_REQUIRE_EQUAL(list["items"].size(), 1u);
  CAF_CHECK_EQUAL(list["items"][0]["reason"], "Tested");
}

CAF_TEST(authentication of requests) {
  auto anonymous = client().with_token("");
  auto version = anonymous.get("/version");
  CAF_CHECK_EQUAL(version.status, 200);
  CAF_CHECK(version.json()["gitVersion"].is_string());
  check_status(anonymous.get("/api/v1/namespaces"), 403, "Forbidden");
  auto garbage = client().with_token("not-a-token");
  check_status(garbage.get("/api/v1/namespaces"), 401, "Unauthorized");
  CAF_CHECK_EQUAL(client().get("/api/v1/namespaces").status, 200);
}

CAF_TEST(discovery legacy and aggregated) {
  auto api = client().get("/api").json();
  CAF_CHECK_EQUAL(api["kind"], "APIVersions");
  CAF_CHECK_EQUAL(api["versions"], (json{"v1"}));
  auto apis = client().get("/apis").json();
  CAF_CHECK_EQUAL(apis["kind"], "APIGroupList");
  std::set<std::string> groups;
  for (auto& g : apis["groups"])
    groups.insert(g["name"].get<std::string>());
  for (auto* g :
       {"cert-manager.io", "coordination.k8s.io", "authentication.k8s.io"})
    CAF_CHECK(groups.count(g) == 1);
  auto aggregated = client().request(
    "GET", "/apis", "", "",
    {{"Accept",
      "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
      "application/json"}});
  CAF_CHECK_EQUAL(aggregated.status, 200);
  CAF_CHECK(aggregated.header("content-type").find("as=APIGroupDiscoveryList")
            != std::string::npos);
  CAF_CHECK_EQUAL(aggregated.json()["kind"], "APIGroupDiscoveryList");
  auto core = client().get("/api/v1").json();
  std::set<std::string> names;
  for (auto& r : core["resources"])
    names.insert(r["name"].get<std::string>());
  for (auto* r :
       {"namespaces", "configmaps", "secrets", "pods", "serviceaccounts",
        "serviceaccounts/token", "events", "pods/status"})
    CAF_CHECK(names.count(r) == 1);
  auto cm = client().get("/apis/cert-manager.io/v1").json();
  names.clear();
  for (auto& r : cm["resources"])
    names.insert(r["name"].get<std::string>());
  for (auto* r :
       {"certificaterequests", "certificaterequests/status", "certificates",
        "certificates/status", "issuers", "clusterissuers"})
    CAF_CHECK(names.count(r) == 1);
  // Outside the groups served: plain text, as kube-apiserver's fallback.
  auto unknown = client().get("/apis/no.such.group/v1/things");
  CAF_CHECK_EQUAL(unknown.status, 404);
  CAF_CHECK_EQUAL(unknown.body, "404 page not found\n");
  auto unknown_cr = client().get("/apis/cert-manager.io/v1/things");
  CAF_CHECK_EQUAL(unknown_cr.status, 404);
  CAF_CHECK_EQUAL(unknown_cr.body, "404 page not found\n");
  // The core group answers a Status.
  check_status(client().get("/api/v1/things"), 404, "NotFound");
}

CAF_TEST(garbage collection deletes dependents) {
  auto ns = fresh_namespace("api-gc");
  auto owner = create(core_path(ns, "configmaps"), config_map("owner"));
  auto dep = config_map("dependent");
  dep["metadata"]["ownerReferences"] = {{{"apiVersion", "v1"},
                                         {"kind", "ConfigMap"},
                                         {"name", "owner"},
                                         {"uid", owner["metadata"]["uid"]}}};
  create(core_path(ns, "configmaps"), dep);
  CAF_CHECK_EQUAL(client().del(core_path(ns, "configmaps", "owner")).status,
                  200);
  CAF_CHECK(eventually([&] {
    return client().get(core_path(ns, "configmaps", "dependent")).status == 404;
  }));
}
