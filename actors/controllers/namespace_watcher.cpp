#include "actors/controllers/namespace_watcher.hpp"

#include <map>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/send.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/system_messages.hpp"

#include "actors/controllers/messages.hpp"
#include "actors/controllers/root_cert.hpp"
#include "actors/supervisor/supervisor.hpp"
#include "errors/describe.hpp"
#include "kube/api/object.hpp"
#include "kube/client/informer.hpp"
#include "kube/client/messages.hpp"
#include "logging/logging.hpp"

namespace istio_csr::actors::controllers {

namespace {

/// Drops what the watcher and the configmap actors never read.
nlohmann::json strip_managed_fields(nlohmann::json obj) {
  if (auto meta = obj.find("metadata"); meta != obj.end() && meta->is_object())
    meta->erase("managedFields");
  return obj;
}

struct child_entry {
  enum class phase { adding, present, removing };
  phase ph = phase::adding;
  /// The stable handle, once added.
  caf::actor hdl;
  /// An event arrived while adding: trigger a check once added.
  bool dirty = false;
};

struct watcher_state {
  namespace_watcher_options opts;
  namespace_watcher_deps deps;
  std::shared_ptr<kube::informer> namespaces;
  std::shared_ptr<kube::informer> config_maps;
  bool namespaces_synced = false;
  bool config_maps_synced = false;
  caf::actor supervisor;
  std::map<std::string, child_entry> children;
  bool stopping = false;
  std::shared_ptr<spdlog::logger> log;

  bool synced() const {
    return namespaces_synced && config_maps_synced;
  }

  ~watcher_state() {
    if (namespaces)
      namespaces->stop();
    if (config_maps)
      config_maps->stop();
  }

  static inline const char* name = "namespace-watcher";
};

using watcher_actor = caf::stateful_actor<watcher_state>;

child_spec configmap_spec(watcher_actor* self, const std::string& ns) {
  auto& st = self->state;
  configmap_deps deps{st.deps.kube, st.deps.roots, st.config_maps};
  return child_spec{
    configmap_child_name(ns),
    [ns, opts = st.opts.configmap, deps = std::move(deps)](child_context& ctx) {
      return spawn_configmap_actor(ctx.system(), ns, opts, deps);
    }};
}

/// Brings the children of `ns` in line with the namespace cache: an actor
/// iff the namespace is selected. Runs again after each add or remove.
void converge(watcher_actor* self, const std::string& ns) {
  auto& st = self->state;
  if (st.stopping || !st.synced())
    return;
  auto obj = st.namespaces->get("", ns);
  bool wanted = namespace_selected(obj.get(), st.opts.selector);
  auto i = st.children.find(ns);
  if (wanted && i == st.children.end()) {
    st.children.emplace(ns, child_entry{});
    logging::debug(*st.log, "namespace selected", {{"namespace", ns}});
    self
      ->request(st.supervisor, caf::infinite, add_child_atom::value,
                configmap_spec(self, ns))
      .then(
        [self, ns](caf::actor& hdl) {
          auto& st = self->state;
          auto j = st.children.find(ns);
          if (j == st.children.end())
            return;
          j->second.ph = child_entry::phase::present;
          j->second.hdl = hdl;
          if (j->second.dirty) {
            j->second.dirty = false;
            self->send(hdl, reconcile_atom::value);
          }
          converge(self, ns);
        },
        [self, ns](caf::error& err) {
          auto& st = self->state;
          if (!st.stopping)
            logging::error(
              *st.log, "cannot start the configmap actor",
              {{"namespace", ns}, {"error", errors::describe(err)}});
          st.children.erase(ns);
        });
    return;
  }
  if (!wanted && i != st.children.end()
      && i->second.ph == child_entry::phase::present) {
    i->second.ph = child_entry::phase::removing;
    logging::debug(*st.log, "namespace no longer selected, its ConfigMap stays",
                   {{"namespace", ns}});
    self
      ->request(st.supervisor, caf::infinite, remove_child_atom::value,
                configmap_child_name(ns))
      .then(
        [self, ns]() {
          self->state.children.erase(ns);
          converge(self, ns);
        },
        [self, ns](caf::error&) {
          self->state.children.erase(ns);
          converge(self, ns);
        });
  }
}

/// Tells the actor of `ns` (if any) to check its ConfigMap.
void route(watcher_actor* self, const std::string& ns) {
  auto& st = self->state;
  auto i = st.children.find(ns);
  if (i == st.children.end())
    return;
  if (i->second.ph == child_entry::phase::present)
    self->send(i->second.hdl, reconcile_atom::value);
  else if (i->second.ph == child_entry::phase::adding)
    i->second.dirty = true;
}

void on_synced(watcher_actor* self) {
  auto& st = self->state;
  if (!st.synced())
    return;
  logging::info(*st.log, "namespaces and ConfigMaps listed",
                {{"namespaces", std::to_string(st.namespaces->size())},
                 {"config-maps", std::to_string(st.config_maps->size())},
                 {"selector", st.opts.selector.to_string()}});
  for (auto& obj : st.namespaces->list())
    converge(self, kube::object_ref{*obj}.name());
}

std::shared_ptr<kube::informer> start_informer(watcher_actor* self,
                                               kube::informer_options opts,
                                               bool namespaces) {
  auto inf = kube::informer::make(
    self->state.deps.client, std::move(opts),
    [addr = self->address(), namespaces](const kube::informer_event& ev) {
      auto hdl = caf::actor_cast<caf::actor>(addr);
      if (!hdl)
        return;
      if (namespaces)
        caf::anon_send(hdl, ns_event_atom::value, ev);
      else
        caf::anon_send(hdl, cm_event_atom::value, ev);
    });
  inf->start();
  return inf;
}

caf::behavior watcher_impl(watcher_actor* self, namespace_watcher_options opts,
                           namespace_watcher_deps deps) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.deps = std::move(deps);
  st.log = logging::get("controller/configmap");
  // The configmap supervisor lives and dies with us.
  supervisor_options sup_opts;
  sup_opts.name = "configmap";
  sup_opts.max_restarts = st.opts.max_restarts;
  sup_opts.window = st.opts.window;
  sup_opts.backoff = st.opts.backoff;
  sup_opts.on_give_up = escalate;
  auto sup = spawn_supervisor(self->system(), std::move(sup_opts), {});
  if (!sup)
    throw std::runtime_error("cannot start the configmap supervisor: "
                             + errors::describe(sup.error()));
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
    st.namespaces->stop();
    st.config_maps->stop();
    self->send_exit(st.supervisor, msg.reason);
  });
  kube::informer_options ns_opts;
  ns_opts.res = kube::resources::namespaces;
  ns_opts.label_selector = st.opts.selector.to_string();
  ns_opts.transform = strip_managed_fields;
  ns_opts.name = "namespaces";
  st.namespaces = start_informer(self, std::move(ns_opts), true);
  kube::informer_options cm_opts;
  cm_opts.res = kube::resources::configmaps;
  cm_opts.field_selector = "metadata.name=" + std::string{root_cert_config_map};
  cm_opts.transform = strip_managed_fields;
  cm_opts.name = "istio-ca-root-cert configmaps";
  st.config_maps = start_informer(self, std::move(cm_opts), false);
  return {
    [self](ns_event_atom, const kube::informer_event& ev) {
      auto& st = self->state;
      if (st.stopping)
        return;
      if (ev.type == kube::informer_event_type::synced) {
        st.namespaces_synced = true;
        on_synced(self);
        return;
      }
      if (!ev.object)
        return;
      auto ns = kube::object_ref{*ev.object}.name();
      converge(self, ns);
      if (ev.type == kube::informer_event_type::updated)
        route(self, ns);
    },
    [self](cm_event_atom, const kube::informer_event& ev) {
      auto& st = self->state;
      if (st.stopping)
        return;
      if (ev.type == kube::informer_event_type::synced) {
        st.config_maps_synced = true;
        on_synced(self);
        return;
      }
      if (ev.object)
        route(self, kube::object_ref{*ev.object}.namespace_());
    },
    [self](configmap_stats_atom) {
      auto& st = self->state;
      watcher_stats result;
      result.synced = st.synced();
      for (auto& [ns, entry] : st.children)
        if (entry.ph == child_entry::phase::present)
          result.namespaces.push_back(ns);
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
