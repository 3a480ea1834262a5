#include "actors/controllers/namespace_watcher.hpp"

#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/system_messages.hpp"

#include "actors/controllers/cache_records.hpp"
#include "actors/controllers/messages.hpp"
#include "actors/controllers/root_cert.hpp"
#include "actors/reconcile/actor_informer.hpp"
#include "actors/reconcile/driver.hpp"
#include "actors/supervisor/supervisor.hpp"
#include "errors/describe.hpp"
#include "introspection/protocol.hpp"
#include "kube/client/messages.hpp"
#include "logging/logging.hpp"

namespace istio_csr::actors::controllers {

namespace {

struct watcher_state {
  namespace_watcher_options opts;
  namespace_watcher_deps deps;
  reconcile::actor_informer namespaces;
  reconcile::actor_informer config_maps;
  caf::actor supervisor;
  /// The configmap actors (stable handles), by namespace.
  std::map<std::string, caf::actor> children;
  /// Namespaces with events while their actor was being added.
  std::set<std::string> missed;
  /// Keys: namespaces; converges "an actor iff selected".
  std::optional<reconcile::driver> loop;
  bool stopping = false;
  std::shared_ptr<spdlog::logger> log;

  bool synced() const {
    return namespaces.synced() && config_maps.synced();
  }

  static inline const char* name = "namespace-watcher";
};

using watcher_actor = caf::stateful_actor<watcher_state>;

child_spec configmap_spec(watcher_actor* self, const std::string& ns) {
  auto& st = self->state;
  configmap_deps deps{st.deps.kube, st.deps.roots, st.config_maps.cache()};
  return child_spec{
    configmap_child_name(ns),
    [ns, opts = st.opts.configmap, deps = std::move(deps)](child_context& ctx) {
      return spawn_configmap_actor(ctx.system(), ns, opts, deps);
    }};
}

/// The reconciler: brings the children of `ns` in line with the namespace
/// cache, an actor iff the namespace is selected.
void converge(watcher_actor* self, const reconcile::request& req,
              reconcile::completion done) {
  auto& st = self->state;
  const auto& ns = req.key;
  if (!st.synced() || st.stopping) {
    done(reconcile::result::done()); // the sync converges every namespace
    return;
  }
  std::optional<nlohmann::json> obj;
  if (auto record = st.namespaces->get("", ns))
    obj = read_record(*record);
  auto wanted = namespace_selected(obj ? &*obj : nullptr, st.opts.selector);
  auto i = st.children.find(ns);
  if (wanted == (i != st.children.end())) {
    done(reconcile::result::done());
    return;
  }
  if (wanted) {
    logging::debug(*st.log, "namespace selected", {{"namespace", ns}});
    self
      ->request(st.supervisor, caf::infinite, add_child_atom::value,
                configmap_spec(self, ns))
      .then(
        [self, ns, done](caf::actor& hdl) {
          auto& st = self->state;
          st.children.emplace(ns, hdl);
          if (st.missed.erase(ns) > 0)
            self->send(hdl, reconcile_atom::value);
          done(reconcile::result::done());
        },
        [self, ns, done](caf::error& err) {
          auto& st = self->state;
          if (!st.stopping)
            logging::error(*st.log, "cannot start the configmap actor",
                           {{"namespace", ns}, {"err", errors::describe(err)}});
          st.missed.erase(ns);
          done(reconcile::result::done());
        });
    return;
  }
  logging::debug(*st.log, "namespace no longer selected, its ConfigMap stays",
                 {{"namespace", ns}});
  st.children.erase(i);
  auto removed = [self, ns, done] {
    self->state.missed.erase(ns);
    done(reconcile::result::done());
  };
  self
    ->request(st.supervisor, caf::infinite, remove_child_atom::value,
              configmap_child_name(ns))
    .then(removed, [removed](caf::error&) { removed(); });
}

/// Tells the actor of `ns` (if any) to check its ConfigMap.
void route(watcher_actor* self, const std::string& ns) {
  auto& st = self->state;
  if (auto i = st.children.find(ns); i != st.children.end())
    self->send(i->second, reconcile_atom::value);
  else if (st.loop->busy(ns))
    st.missed.insert(ns);
}

void on_synced(watcher_actor* self) {
  auto& st = self->state;
  if (!st.synced())
    return;
  logging::info(*st.log, "namespaces and ConfigMaps listed",
                {{"namespaces", std::to_string(st.namespaces->size())},
                 {"config-maps", std::to_string(st.config_maps->size())},
                 {"selector", st.opts.selector.to_string()}});
  for (auto& record : st.namespaces->list())
    st.loop->trigger(std::string{record_key(*record)});
}

kube::informer_options
informer_opts(kube::resource res, std::string name,
              std::function<nlohmann::json(nlohmann::json)> transform) {
  kube::informer_options result;
  result.res = res;
  result.transform = std::move(transform);
  result.name = std::move(name);
  return result;
}

caf::behavior watcher_impl(watcher_actor* self, namespace_watcher_options opts,
                           namespace_watcher_deps deps) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.deps = std::move(deps);
  st.log = logging::get("controller/configmap");
  reconcile::options loop_opts;
  // Adding and removing children are local requests: no limit.
  loop_opts.max_concurrent_reconciles = std::numeric_limits<size_t>::max();
  st.loop.emplace(
    self,
    [self](const reconcile::request& req, reconcile::completion done) {
      converge(self, req, std::move(done));
    },
    loop_opts);
  // The configmap supervisor lives and dies with us.
  supervisor_options sup_opts;
  sup_opts.name = "configmap";
  sup_opts.max_restarts = st.opts.max_restarts;
  sup_opts.window = st.opts.window;
  sup_opts.backoff = st.opts.backoff;
  sup_opts.on_give_up = escalate;
  auto sup = spawn_supervisor(self->system(), std::move(sup_opts), {});
  if (!sup) {
    // Cannot happen with no children; end with the reason rather than throw.
    self->quit(std::move(sup.error()));
    return {};
  }
  st.supervisor = sup->supervisor;
  self->link_to(st.supervisor);
  // Also monitored: CAF drops the link when we send it an exit message
  // (shutdown), and we still end only once it is done.
  self->monitor(st.supervisor);
  self->set_down_handler([self](caf::down_msg& msg) {
    if (msg.source == self->state.supervisor.address())
      self->quit(msg.reason);
  });
  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto& st = self->state;
    if (msg.source == st.supervisor.address()) {
      // Stopped by us (shutdown) or gave up: either way we end with it.
      self->quit(msg.reason);
      return;
    }
    if (msg.reason == caf::exit_reason::normal || st.stopping)
      return;
    // Stop the configmap actors before we report down, so that nothing of
    // ours writes once our supervisor thinks we are gone.
    st.stopping = true;
    st.namespaces.stop();
    st.config_maps.stop();
    self->send_exit(st.supervisor, msg.reason);
  });
  introspection::enable(self, [self] {
    auto& st = self->state;
    introspection::report r;
    r.state = std::string{st.synced() ? "synced" : "listing"} + ", "
              + std::to_string(st.children.size()) + " namespaces";
    r.owned_supervisor = st.supervisor;
    r.owned_name = "configmap";
    r.owned_starts = 1;
    return r;
  });
  auto ns_opts = informer_opts(kube::resources::namespaces, "namespaces",
                               make_namespace_record);
  ns_opts.label_selector = st.opts.selector.to_string();
  st.namespaces.start(self, st.deps.client, std::move(ns_opts),
                      ns_event_atom::value);
  auto cm_opts
    = informer_opts(kube::resources::configmaps,
                    "istio-ca-root-cert configmaps", make_config_map_record);
  cm_opts.field_selector = "metadata.name=" + std::string{root_cert_config_map};
  st.config_maps.start(self, st.deps.client, std::move(cm_opts),
                       cm_event_atom::value);
  return {
    [self](ns_event_atom, const kube::informer_event& ev) {
      auto& st = self->state;
      if (!st.namespaces.accept(ev))
        return;
      if (ev.type == kube::informer_event_type::synced) {
        on_synced(self);
        return;
      }
      if (!ev.object)
        return;
      auto ns = std::string{record_key(*ev.object)};
      st.loop->trigger(ns);
      if (ev.type == kube::informer_event_type::updated)
        route(self, ns);
    },
    [self](cm_event_atom, const kube::informer_event& ev) {
      auto& st = self->state;
      if (!st.config_maps.accept(ev))
        return;
      if (ev.type == kube::informer_event_type::synced)
        on_synced(self);
      else if (ev.object)
        route(self, std::string{record_key(*ev.object)});
    },
    st.loop->timers(),
    [self](configmap_stats_atom) {
      auto& st = self->state;
      watcher_stats result;
      result.synced = st.synced();
      for (auto& entry : st.children)
        result.namespaces.push_back(entry.first);
      result.configmap_supervisor = st.supervisor;
      return result;
    },
  };
}

} // namespace

std::string configmap_child_name(std::string_view namespace_) {
  return "configmap/" + std::string{namespace_};
}

caf::actor spawn_namespace_watcher(caf::actor_system& sys,
                                   namespace_watcher_options opts,
                                   namespace_watcher_deps deps) {
  return sys.spawn(watcher_impl, std::move(opts), std::move(deps));
}

} // namespace istio_csr::actors::controllers
