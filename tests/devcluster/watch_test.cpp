// Watches by raw HTTPS: framing, event types, bookmarks, selectors, 410.
#define CAF_SUITE devcluster.watch
#include "caf/test/unit_test.hpp"

#include <regex>

#include "tests/devcluster/fixture.hpp"

using namespace istio_csr::test;

namespace {

using std::chrono::steady_clock;

std::string list_rv(const std::string& path) {
  auto list = client().get(path).json();
  return list["metadata"]["resourceVersion"].get<std::string>();
}

std::unique_ptr<event_stream> watch(const std::string& path,
                                    const std::string& query) {
  auto s = client().stream(path + "?watch=1&" + query);
  if (!s)
    CAF_FAIL("cannot open a watch on " << path);
  return s;
}

/// The next event, failing the test on timeout.
json next_event(event_stream& s, std::chrono::milliseconds timeout = 30s) {
  auto e = s.next(timeout);
  if (!e)
    CAF_FAIL("no event within the deadline");
  return *e;
}

std::string name_of(const json& event) {
  return event["object"]["metadata"].value("name", "");
}

/// Events until one named `name` of `type` arrives (others are skipped).
json event_for(event_stream& s, const std::string& type,
               const std::string& name) {
  auto deadline = steady_clock::now() + 30s;
  while (steady_clock::now() < deadline) {
    auto e = s.next(std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - steady_clock::now()));
    if (!e)
      break;
    if ((*e)["type"] == type && name_of(*e) == name)
      return *e;
  }
  CAF_FAIL("no " << type << " event for " << name);
  return nullptr;
}

} // namespace

CAF_TEST(a watch streams added modified and deleted events) {
  auto ns = fresh_namespace("w-basic");
  auto path = core_path(ns, "configmaps");
  auto s = watch(path, "resourceVersion=" + list_rv(path));
  CAF_CHECK_EQUAL(s->head().status, 200);
  CAF_CHECK_EQUAL(s->head().header("transfer-encoding"), "chunked");
  CAF_CHECK(s->head().header("content-type").starts_with("application/json"));
  auto created = create(path, config_map("a", {}, {{"k", "1"}}));
  auto added = next_event(*s);
  CAF_CHECK_EQUAL(added["type"], "ADDED");
  CAF_CHECK_EQUAL(added["object"]["kind"], "ConfigMap");
  CAF_CHECK_EQUAL(added["object"]["apiVersion"], "v1");
  CAF_CHECK_EQUAL(added["object"]["metadata"]["resourceVersion"],
                  created["metadata"]["resourceVersion"]);
  auto patched
    = client().merge_patch(path + "/a", json{{"data", {{"k", "2"}}}});
  auto modified = next_event(*s);
  CAF_CHECK_EQUAL(modified["type"], "MODIFIED");
  CAF_CHECK_EQUAL(modified["object"]["data"]["k"], "2");
  CAF_CHECK_EQUAL(modified["object"]["metadata"]["resourceVersion"],
                  patched.json()["metadata"]["resourceVersion"]);
  CAF_CHECK_EQUAL(client().del(path + "/a").status, 200);
  auto deleted = next_event(*s);
  CAF_CHECK_EQUAL(deleted["type"], "DELETED");
  CAF_CHECK_EQUAL(name_of(deleted), "a");
  CAF_CHECK_GREATER(rv_of(deleted["object"]), rv_of(modified["object"]));
  CAF_CHECK(s->chunks_on_event_boundaries());
  CAF_CHECK_GREATER_OR_EQUAL(s->chunk_count(), 3u);
}

CAF_TEST(a watch from now or from zero starts with the current objects) {
  auto ns = fresh_namespace("w-initial");
  auto path = core_path(ns, "configmaps");
  create(path, config_map("x"));
  create(path, config_map("y"));
  for (auto* query : {"", "resourceVersion=0"}) {
    std::set<std::string> expected;
    auto list = client().get(path).json();
    for (auto& item : list["items"])
      expected.insert(item["metadata"]["name"].get<std::string>());
    CAF_REQUIRE_GREATER_OR_EQUAL(expected.size(), 3u);
    auto s = watch(path, query);
    std::set<std::string> names;
    for (size_t i = 0; i < expected.size(); ++i) {
      auto e = next_event(*s);
      CAF_CHECK_EQUAL(e["type"], "ADDED");
      names.insert(name_of(e));
    }
    CAF_CHECK_EQUAL(names, expected);
    // Nothing else until something changes.
    CAF_CHECK(!s->next(300ms));
    auto name = std::string("z") + (*query ? "0" : "1");
    create(path, config_map(name));
    auto e = next_event(*s);
    CAF_CHECK_EQUAL(e["type"], "ADDED");
    CAF_CHECK_EQUAL(name_of(e), name);
  }
}

CAF_TEST(bookmarks arrive before the timeout and the server closes) {
  auto ns = fresh_namespace("w-bookmark");
  auto path = core_path(ns, "configmaps");
  auto start = steady_clock::now();
  auto s = watch(path, "allowWatchBookmarks=true&timeoutSeconds=4"
                       "&resourceVersion="
                         + list_rv(path));
  // Bookmarks are best effort: devcluster always sends one before the
  // deadline; a busy real server may close the watch without one.
  auto e = s->next(10s);
  if (e || cluster().is_devcluster()) {
    CAF_REQUIRE(e);
    CAF_CHECK_EQUAL((*e)["type"], "BOOKMARK");
    CAF_CHECK_EQUAL((*e)["object"]["kind"], "ConfigMap");
    CAF_CHECK_EQUAL((*e)["object"]["apiVersion"], "v1");
    CAF_CHECK_GREATER(rv_of((*e)["object"]), 0u);
  } else {
    CAF_MESSAGE("the real server sent no bookmark this time (best effort)");
  }
  CAF_CHECK(s->wait_end(15s));
  auto elapsed = steady_clock::now() - start;
  CAF_CHECK_GREATER_OR_EQUAL(elapsed, 3500ms);
  CAF_CHECK_LESS(elapsed, 15s);
}

CAF_TEST(selector changes turn into deleted and added events) {
  auto ns = fresh_namespace("w-select");
  auto path = core_path(ns, "configmaps");
  auto s
    = watch(path, "labelSelector=app%3Dx&resourceVersion=" + list_rv(path));
  create(path, config_map("other", {{"app", "y"}}));
  create(path, config_map("m", {{"app", "x"}}, {{"v", "1"}}));
  auto added = next_event(*s);
  CAF_CHECK_EQUAL(added["type"], "ADDED");
  CAF_CHECK_EQUAL(name_of(added), "m");
  client().merge_patch(path + "/m", json{{"data", {{"v", "2"}}}});
  auto modified = next_event(*s);
  CAF_CHECK_EQUAL(modified["type"], "MODIFIED");
  // Leaves the selector: DELETED with its last matching state at the new
  // resourceVersion.
  auto moved = client().merge_patch(
    path + "/m",
    json{{"metadata", {{"labels", {{"app", "z"}}}}}, {"data", {{"v", "3"}}}});
  auto gone = next_event(*s);
  CAF_CHECK_EQUAL(gone["type"], "DELETED");
  CAF_CHECK_EQUAL(name_of(gone), "m");
  CAF_CHECK_EQUAL(gone["object"]["metadata"]["labels"]["app"], "x");
  CAF_CHECK_EQUAL(gone["object"]["data"]["v"], "2");
  CAF_CHECK_EQUAL(gone["object"]["metadata"]["resourceVersion"],
                  moved.json()["metadata"]["resourceVersion"]);
  // Comes back: ADDED.
  client().merge_patch(path + "/m",
                       json{{"metadata", {{"labels", {{"app", "x"}}}}}});
  auto back = next_event(*s);
  CAF_CHECK_EQUAL(back["type"], "ADDED");
  CAF_CHECK_EQUAL(back["object"]["data"]["v"], "3");
  // A field selector watch on one name.
  auto one = watch(path, "fieldSelector=metadata.name%3Dother");
  auto e = next_event(*one);
  CAF_CHECK_EQUAL(e["type"], "ADDED");
  CAF_CHECK_EQUAL(name_of(e), "other");
  client().merge_patch(path + "/m", json{{"data", {{"v", "4"}}}});
  client().merge_patch(path + "/other", json{{"data", {{"v", "5"}}}});
  auto mod = next_event(*one);
  CAF_CHECK_EQUAL(mod["type"], "MODIFIED");
  CAF_CHECK_EQUAL(name_of(mod), "other");
}

CAF_TEST(a watch resumes from an older resourceVersion) {
  auto ns = fresh_namespace("w-resume");
  auto path = core_path(ns, "configmaps");
  auto rv = list_rv(path);
  create(path, config_map("r1"));
  client().merge_patch(path + "/r1", json{{"data", {{"k", "v"}}}});
  client().del(path + "/r1");
  auto s = watch(path, "resourceVersion=" + rv);
  CAF_CHECK_EQUAL(next_event(*s)["type"], "ADDED");
  CAF_CHECK_EQUAL(next_event(*s)["type"], "MODIFIED");
  CAF_CHECK_EQUAL(next_event(*s)["type"], "DELETED");
}

CAF_TEST(namespace deletion deletes its objects) {
  auto ns = fresh_namespace("w-nsdel");
  auto path = core_path(ns, "configmaps");
  create(path, config_map("c"));
  auto s = watch(path, "resourceVersion=" + list_rv(path));
  CAF_CHECK_EQUAL(client().del("/api/v1/namespaces/" + ns).status, 200);
  std::set<std::string> deleted;
  auto deadline = steady_clock::now() + 60s;
  while (deleted.size() < 2 && steady_clock::now() < deadline) {
    auto e = s->next(5s);
    if (e && (*e)["type"] == "DELETED")
      deleted.insert(name_of(*e));
  }
  CAF_CHECK_EQUAL(deleted, (std::set<std::string>{"c", "kube-root-ca.crt"}));
}

CAF_TEST(custom resource watch events carry kind) {
  auto ns = fresh_namespace("w-cr");
  auto path = group_path("cert-manager.io/v1", ns, "issuers");
  auto s = watch(path, "resourceVersion=" + list_rv(path));
  create(path, json{{"apiVersion", "cert-manager.io/v1"},
                    {"kind", "Issuer"},
                    {"metadata", {{"name", "i"}}},
                    {"spec", {{"selfSigned", json::object()}}}});
  auto e = event_for(*s, "ADDED", "i");
  CAF_CHECK_EQUAL(e["object"]["kind"], "Issuer");
  CAF_CHECK_EQUAL(e["object"]["apiVersion"], "cert-manager.io/v1");
}

CAF_TEST(many concurrent watches all see a change) {
  auto ns = fresh_namespace("w-many");
  auto path = core_path(ns, "configmaps");
  auto rv = list_rv(path);
  std::vector<std::unique_ptr<event_stream>> streams;
  for (int i = 0; i < 50; ++i)
    streams.push_back(watch(path, "resourceVersion=" + rv));
  create(path, config_map("broadcast"));
  size_t seen = 0;
  for (auto& s : streams)
    if (auto e = s->next(30s); e && name_of(*e) == "broadcast")
      ++seen;
  CAF_CHECK_EQUAL(seen, streams.size());
}

CAF_TEST(a too old resourceVersion gets ERROR 410 after compaction) {
  if (!devcluster_only("compaction"))
    return;
  auto ns = fresh_namespace("w-gone");
  auto path = core_path(ns, "configmaps");
  auto old_rv = list_rv(path);
  create(path, config_map("after"));
  auto first = client().get(path + "?limit=1").json();
  auto token = first["metadata"]["continue"].get<std::string>();
  create(path, config_map("after-token"));
  auto compacted = client().post("/devcluster/v1/compact", json::object());
  CAF_REQUIRE_EQUAL(compacted.status, 200);
  auto now_rv = compacted.json()["resourceVersion"].get<std::string>();
  auto s = watch(path, "resourceVersion=" + old_rv);
  CAF_CHECK_EQUAL(s->head().status, 200);
  auto e = next_event(*s);
  CAF_CHECK_EQUAL(e["type"], "ERROR");
  CAF_CHECK_EQUAL(e["object"]["kind"], "Status");
  CAF_CHECK_EQUAL(e["object"]["code"], 410);
  CAF_CHECK_EQUAL(e["object"]["reason"], "Expired");
  CAF_CHECK_EQUAL(e["object"]["message"],
                  "too old resource version: " + old_rv + " (" + now_rv + ")");
  CAF_CHECK(s->wait_end(10s));
  // The current version still works.
  auto fresh = watch(path, "resourceVersion=" + now_rv);
  create(path, config_map("later"));
  CAF_CHECK_EQUAL(next_event(*fresh)["type"], "ADDED");
  // Lists at an exact old version, and old continue tokens, are 410 too.
  auto exact = client().get(path
                            + "?resourceVersionMatch=Exact&"
                              "resourceVersion="
                            + old_rv);
  CAF_CHECK_EQUAL(exact.status, 410);
  CAF_CHECK_EQUAL(exact.json()["reason"], "Expired");
  auto cont = client().get(path + "?limit=1&continue=" + token);
  CAF_CHECK_EQUAL(cont.status, 410);
  CAF_CHECK(cont.json()["metadata"].contains("continue"));
}

CAF_TEST(sendInitialEvents ends the initial events with a bookmark) {
  if (!devcluster_only("sendInitialEvents (a feature gate on real servers)"))
    return;
  auto ns = fresh_namespace("w-initial-events");
  auto path = core_path(ns, "configmaps");
  create(path, config_map("x"));
  auto s = watch(path, "sendInitialEvents=true&allowWatchBookmarks=true&"
                       "resourceVersionMatch=NotOlderThan");
  std::set<std::string> names;
  json e;
  while ((e = next_event(*s))["type"] == "ADDED")
    names.insert(name_of(e));
  CAF_CHECK_EQUAL(names, (std::set<std::string>{"kube-root-ca.crt", "x"}));
  CAF_CHECK_EQUAL(e["type"], "BOOKMARK");
  CAF_CHECK_EQUAL(
    e["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
    "true");
}
