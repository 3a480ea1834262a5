#define CAF_SUITE kube.informer
#include "caf/test/unit_test.hpp"

#include <random>

#include "kube/api/config_map.hpp"
#include "kube/api/pod.hpp"
#include "kube/client/informer.hpp"
#include "tests/kube/client/helpers.hpp"
#include "tests/support/process.hpp"

using namespace istio_csr;
using namespace istio_csr::kube;
using namespace istio_csr::kube::testing;
using istio_csr::test::wait_until;

namespace {

/// What a subscriber believes the world is, built only from events, plus
/// every inconsistency it noticed (a phantom add of a known object, an
/// update or delete of an unknown one, an update whose old version is not
/// the one it had).
struct subscriber_model {
  std::mutex mtx;
  std::map<std::string, std::string> objects; // key -> resourceVersion
  std::vector<std::string> violations;
  std::vector<std::string> log;
  int synced = 0;

  informer_handler handler() {
    return [this](const informer_event& ev) { apply(ev); };
  }

  void apply(const informer_event& ev) {
    std::lock_guard guard{mtx};
    if (ev.type == informer_event_type::synced) {
      ++synced;
      log.push_back("synced");
      return;
    }
    object_ref obj{*ev.object};
    auto key = obj.key();
    auto rv = obj.resource_version();
    log.push_back(to_string(ev.type) + ":" + obj.name());
    auto i = objects.find(key);
    switch (ev.type) {
      case informer_event_type::added:
        if (i != objects.end())
          violations.push_back("phantom add of known " + key);
        objects[key] = rv;
        break;
      case informer_event_type::updated:
        if (i == objects.end()) {
          violations.push_back("update of unknown " + key);
        } else if (!ev.old_object
                   || object_ref{*ev.old_object}.resource_version()
                        != i->second) {
          violations.push_back("update of " + key + " with a wrong old state");
        } else if (i->second == rv) {
          violations.push_back("phantom update of " + key);
        }
        objects[key] = rv;
        break;
      case informer_event_type::deleted:
        if (i == objects.end())
          violations.push_back("delete of unknown " + key);
        else
          objects.erase(i);
        break;
      default: break;
    }
  }

  std::map<std::string, std::string> state() {
    std::lock_guard guard{mtx};
    return objects;
  }

  std::vector<std::string> take_log() {
    std::lock_guard guard{mtx};
    return std::exchange(log, {});
  }
};

/// The server's state of the selected objects (key -> resourceVersion).
std::map<std::string, std::string> server_state(client& c,
                                                const informer_options& o) {
  list_options lo;
  lo.label_selector = o.label_selector;
  auto list = call_ok(c, request::list_all(o.res, o.namespace_, lo));
  std::map<std::string, std::string> result;
  for (auto& item : list["items"]) {
    object_ref ref{item};
    result[ref.key()] = ref.resource_version();
  }
  return result;
}

/// Waits until the subscriber's view equals the server's.
bool converges(subscriber_model& model, client& c, const informer_options& o) {
  return wait_until([&] { return model.state() == server_state(c, o); }, 20s,
                    50ms);
}

informer_options options_for(const std::string& ns) {
  informer_options o;
  o.res = resources::configmaps;
  o.namespace_ = ns;
  o.initial_backoff = std::chrono::milliseconds{50};
  o.max_backoff = std::chrono::milliseconds{500};
  o.page_size = 3; // exercise paging on every (re-)list
  return o;
}

json cm(const std::string& ns, const std::string& name, const std::string& app,
        const std::string& value = "0") {
  return make_config_map(ns, name, {{"app", app}}, {{"v", value}});
}

/// Waits until the informer's cache shows `name` at the resourceVersion of
/// `obj` (or, for a null `obj`, without `name`): the change came through a
/// live watch.
bool observed(informer& inf, const std::string& ns, const std::string& name,
              const json& obj) {
  return wait_until(
    [&] {
      auto cached = inf.get(ns, name);
      if (obj.is_null())
        return cached == nullptr;
      return cached != nullptr
             && object_ref{*cached}.resource_version()
                  == object_ref{obj}.resource_version();
    },
    10s);
}

void post_admin(client& c, const std::string& what) {
  call_ok(c, request::raw(verb::create, "/devcluster/v1/" + what, json{}));
}

} // namespace

CAF_TEST(list then watch with a label selector) {
  auto c = cluster_client();
  auto ns = fresh_namespace(*c, "inf-basic");
  call_ok(*c, request::create(resources::configmaps, ns, cm(ns, "a", "x")));
  call_ok(*c, request::create(resources::configmaps, ns, cm(ns, "b", "x")));
  call_ok(*c, request::create(resources::configmaps, ns, cm(ns, "c", "y")));
  auto opts = options_for(ns);
  opts.label_selector = "app=x";
  subscriber_model model;
  auto inf = informer::make(c, opts, model.handler());
  inf->start();
  CAF_REQUIRE(wait_until([&] { return inf->synced(); }, 10s));
  CAF_CHECK_EQUAL(model.take_log(),
                  (std::vector<std::string>{"added:a", "added:b", "synced"}));
  CAF_CHECK(inf->get(ns, "a") != nullptr);
  CAF_CHECK(inf->get(ns, "c") == nullptr);
  // Create, update, delete, and an object leaving the selector.
  call_ok(*c, request::create(resources::configmaps, ns, cm(ns, "d", "x")));
  call_ok(*c, request::merge_patch(resources::configmaps, ns, "a",
                                   json{{"data", {{"v", "1"}}}}));
  call_ok(*c, request::remove(resources::configmaps, ns, "b"));
  call_ok(
    *c, request::merge_patch(resources::configmaps, ns, "d",
                             json{{"metadata", {{"labels", {{"app", "y"}}}}}}));
  CAF_REQUIRE(converges(model, *c, opts));
  CAF_CHECK_EQUAL(model.take_log(),
                  (std::vector<std::string>{"added:d", "updated:a", "deleted:b",
                                            "deleted:d"}));
  CAF_CHECK(model.violations.empty());
  CAF_CHECK_EQUAL(model.synced, 1);
  CAF_CHECK_EQUAL(inf->size(), 1u);
  auto a = inf->get(ns, "a");
  CAF_REQUIRE(a != nullptr);
  CAF_CHECK_EQUAL((*a)["data"]["v"], "1");
  inf->stop();
}

CAF_TEST(no change is missed or repeated across dropped watches) {
  if (!devcluster_only("dropping watches"))
    return;
  auto c = cluster_client();
  auto ns = fresh_namespace(*c, "inf-drop");
  auto opts = options_for(ns);
  subscriber_model model;
  auto inf = informer::make(c, opts, model.handler());
  inf->start();
  CAF_REQUIRE(wait_until([&] { return inf->synced(); }, 10s));
  std::mt19937 rng{7};
  std::set<std::string> live;
  int drops = 0;
  for (int i = 0; i < 60; ++i) {
    auto name = "o" + std::to_string(rng() % 10);
    json last;
    if (!live.count(name)) {
      last = call_ok(
        *c, request::create(resources::configmaps, ns, cm(ns, name, "x")));
      live.insert(name);
    } else if (rng() % 3 == 0) {
      call_ok(*c, request::remove(resources::configmaps, ns, name));
      live.erase(name);
    } else {
      last = call_ok(
        *c, request::merge_patch(resources::configmaps, ns, name,
                                 json{{"data", {{"v", std::to_string(i)}}}}));
    }
    if (i % 7 == 6) {
      // Drop only a live watch (one that delivered the last change); the
      // changes made right after the drop happen while it reconnects.
      CAF_REQUIRE(observed(*inf, ns, name, last));
      post_admin(*c, "drop-watches");
      ++drops;
    }
  }
  CAF_REQUIRE(converges(model, *c, opts));
  CAF_CHECK_EQUAL(model.violations, std::vector<std::string>{});
  auto stats = inf->get_stats();
  // Every drop was resumed from the last resourceVersion, not re-listed.
  CAF_CHECK_EQUAL(stats.lists, 1u);
  CAF_CHECK_GREATER(stats.watches, static_cast<uint64_t>(drops));
  inf->stop();
}

CAF_TEST(after a 410 the relist emits exactly the difference) {
  if (!devcluster_only("watch faults and compaction"))
    return;
  auto c = cluster_client();
  auto ns = fresh_namespace(*c, "inf-gone");
  for (auto name : {"keep", "change", "gone", "relabel"})
    call_ok(*c, request::create(resources::configmaps, ns, cm(ns, name, "x")));
  auto opts = options_for(ns);
  opts.label_selector = "app=x";
  subscriber_model model;
  auto inf = informer::make(c, opts, model.handler());
  inf->start();
  CAF_REQUIRE(wait_until([&] { return inf->synced(); }, 10s));
  // Make sure the watch is live at the server before cutting it off.
  auto probe = call_ok(
    *c, request::create(resources::configmaps, ns, cm(ns, "probe", "x")));
  CAF_REQUIRE(observed(*inf, ns, "probe", probe));
  model.take_log();
  auto keep_before = inf->get(ns, "keep");
  // Keep the informer from watching, change things behind its back, and
  // forget the history so that its resourceVersion is too old.
  set_faults(*c, json{{"rules", json::array({json{{"verbs", {"watch"}},
                                                  {"resources", {"configmaps"}},
                                                  {"namespaces", {ns}},
                                                  {"error", 503}}})}});
  post_admin(*c, "drop-watches");
  call_ok(*c, request::merge_patch(resources::configmaps, ns, "change",
                                   json{{"data", {{"v", "1"}}}}));
  call_ok(*c, request::remove(resources::configmaps, ns, "gone"));
  call_ok(*c, request::create(resources::configmaps, ns, cm(ns, "new", "x")));
  call_ok(
    *c, request::merge_patch(resources::configmaps, ns, "relabel",
                             json{{"metadata", {{"labels", {{"app", "y"}}}}}}));
  // A change and its undo: the object differs only in resourceVersion.
  call_ok(*c, request::create(resources::configmaps, ns, cm(ns, "flip", "x")));
  call_ok(*c, request::remove(resources::configmaps, ns, "flip"));
  post_admin(*c, "compact");
  CAF_CHECK_EQUAL(inf->get_stats().relists_after_gone, 0u);
  set_faults(*c, json::object());
  CAF_REQUIRE(
    wait_until([&] { return inf->get_stats().relists_after_gone > 0; }, 20s));
  CAF_REQUIRE(converges(model, *c, opts));
  CAF_CHECK_EQUAL(model.violations, std::vector<std::string>{});
  auto log = model.take_log();
  std::sort(log.begin(), log.end());
  // Nothing about "keep" and "probe" (unchanged) or "flip" (never seen):
  // no phantoms.
  CAF_CHECK_EQUAL(
    log, (std::vector<std::string>{"added:new", "deleted:gone",
                                   "deleted:relabel", "updated:change"}));
  CAF_CHECK(inf->get(ns, "keep") == keep_before);
  CAF_CHECK_EQUAL(model.synced, 1);
  inf->stop();
}

CAF_TEST(a transform keeps a pod index small) {
  auto c = cluster_client();
  auto ns = fresh_namespace(*c, "inf-pods");
  call_ok(*c, request::create(resources::serviceaccounts, ns,
                              json{{"apiVersion", "v1"},
                                   {"kind", "ServiceAccount"},
                                   {"metadata", {{"name", "app"}}}}));
  for (int i = 0; i < 3; ++i)
    call_ok(
      *c,
      request::create(
        resources::pods, ns,
        json{{"apiVersion", "v1"},
             {"kind", "Pod"},
             {"metadata",
              {{"name", "p" + std::to_string(i)},
               {"labels", {{"app", "web"}}},
               {"annotations", {{"big", std::string(2000, 'x')}}}}},
             {"spec",
              {{"serviceAccountName", "app"},
               {"nodeName", "node-1"},
               {"containers",
                json::array({json{{"name", "c"}, {"image", "busybox"}}})}}}}));
  informer_options opts;
  opts.res = resources::pods;
  opts.namespace_ = ns;
  opts.transform = strip_pod;
  subscriber_model model;
  auto inf = informer::make(c, opts, model.handler());
  inf->start();
  CAF_REQUIRE(wait_until([&] { return inf->synced(); }, 10s));
  CAF_REQUIRE_EQUAL(inf->size(), 3u);
  for (auto& pod : inf->list()) {
    pod_view v{*pod};
    CAF_CHECK_EQUAL(v.service_account_name(), "app");
    CAF_CHECK_EQUAL(v.node_name(), "node-1");
    CAF_CHECK(!v.uid().empty());
    CAF_CHECK(!(*pod)["metadata"].contains("annotations"));
    CAF_CHECK(!(*pod)["spec"].contains("containers"));
    CAF_CHECK_LESS(pod->dump().size(), 400u);
  }
  // Updates flow through the transform too, and are still detected by
  // resourceVersion even though the stripped objects look the same.
  call_ok(*c, request::merge_patch(
                resources::pods, ns, "p0",
                json{{"metadata", {{"labels", {{"app", "api"}}}}}}));
  CAF_REQUIRE(wait_until(
    [&] {
      auto log = model.take_log();
      return std::find(log.begin(), log.end(), "updated:p0") != log.end();
    },
    10s));
  CAF_CHECK(!(*inf->get(ns, "p0"))["metadata"].contains("labels"));
  inf->stop();
}
