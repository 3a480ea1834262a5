#define CAF_SUITE kube.informer_cache
#include "caf/test/unit_test.hpp"

#include "kube/client/informer_cache.hpp"

using namespace istio_csr::kube;
using json = nlohmann::json;

namespace {

informer_cache::entry obj(const std::string& ns, const std::string& name,
                          const std::string& rv) {
  auto j = json{
    {"metadata", {{"namespace", ns}, {"name", name}, {"resourceVersion", rv}}}};
  return {std::make_shared<const json>(std::move(j)), rv};
}

std::map<std::string, informer_cache::entry>
items(std::vector<std::tuple<std::string, std::string, std::string>> xs) {
  std::map<std::string, informer_cache::entry> result;
  for (auto& [ns, name, rv] : xs)
    result.emplace(ns + "/" + name, obj(ns, name, rv));
  return result;
}

std::string rv_of(const object_ptr& p) {
  return p ? (*p)["metadata"]["resourceVersion"].get<std::string>() : "-";
}

std::string summary(const std::vector<informer_event>& evs) {
  std::string out;
  for (auto& ev : evs) {
    out += to_string(ev.type) + ":"
           + (*ev.object)["metadata"]["name"].get<std::string>() + "@"
           + rv_of(ev.object) + "<" + rv_of(ev.old_object) + " ";
  }
  return out;
}

} // namespace

CAF_TEST(the first list adds everything) {
  informer_cache c;
  auto evs = c.replace(items({{"a", "x", "1"}, {"a", "y", "2"}}));
  CAF_CHECK_EQUAL(summary(evs), "added:x@1<- added:y@2<- ");
  CAF_CHECK_EQUAL(c.size(), 2u);
  CAF_CHECK(c.get("a/x") != nullptr);
  CAF_CHECK(c.get("a/z") == nullptr);
}

CAF_TEST(a relist emits exactly the difference) {
  informer_cache c;
  c.replace(
    items({{"a", "keep", "1"}, {"a", "change", "2"}, {"a", "gone", "3"}}));
  auto kept = c.get("a/keep");
  auto evs = c.replace(
    items({{"a", "keep", "1"}, {"a", "change", "5"}, {"a", "new", "6"}}));
  // No event for the unchanged object: no phantom update.
  CAF_CHECK_EQUAL(summary(evs),
                  "updated:change@5<2 deleted:gone@3<3 added:new@6<- ");
  CAF_CHECK_EQUAL(c.size(), 3u);
  // The unchanged object keeps its identity (no needless copies).
  CAF_CHECK(c.get("a/keep") == kept);
  // Relisting the same state again: nothing.
  CAF_CHECK(
    c.replace(
       items({{"a", "keep", "1"}, {"a", "change", "5"}, {"a", "new", "6"}}))
      .empty());
  // Relisting an empty state deletes everything.
  CAF_CHECK_EQUAL(c.replace({}).size(), 3u);
  CAF_CHECK_EQUAL(c.size(), 0u);
}

CAF_TEST(watch events) {
  informer_cache c;
  auto ev = c.apply(watch_event_type::added, "a/x", obj("a", "x", "1"));
  CAF_REQUIRE(ev);
  CAF_CHECK(ev->type == informer_event_type::added);
  // A replayed ADDED with the same version is not an update.
  CAF_CHECK(!c.apply(watch_event_type::added, "a/x", obj("a", "x", "1")));
  ev = c.apply(watch_event_type::modified, "a/x", obj("a", "x", "2"));
  CAF_REQUIRE(ev);
  CAF_CHECK(ev->type == informer_event_type::updated);
  CAF_CHECK_EQUAL(rv_of(ev->old_object), "1");
  CAF_CHECK_EQUAL(rv_of(ev->object), "2");
  CAF_CHECK(!c.apply(watch_event_type::modified, "a/x", obj("a", "x", "2")));
  // MODIFIED of an unknown object is an add.
  ev = c.apply(watch_event_type::modified, "a/y", obj("a", "y", "3"));
  CAF_REQUIRE(ev);
  CAF_CHECK(ev->type == informer_event_type::added);
  ev = c.apply(watch_event_type::deleted, "a/x", obj("a", "x", "4"));
  CAF_REQUIRE(ev);
  CAF_CHECK(ev->type == informer_event_type::deleted);
  CAF_CHECK_EQUAL(rv_of(ev->object), "4");
  CAF_CHECK_EQUAL(rv_of(ev->old_object), "2");
  // Deleting an unknown object: nothing.
  CAF_CHECK(!c.apply(watch_event_type::deleted, "a/x", obj("a", "x", "5")));
  CAF_CHECK(!c.apply(watch_event_type::bookmark, "", obj("", "", "6")));
  CAF_CHECK_EQUAL(c.size(), 1u);
}
