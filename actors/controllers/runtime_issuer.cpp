#include "actors/controllers/runtime_issuer.hpp"

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"

#include "actors/reconcile/actor_informer.hpp"
#include "actors/signing/active_issuer.hpp"
#include "config/options.hpp"
#include "introspection/protocol.hpp"
#include "kube/api/config_map.hpp"
#include "kube/client/messages.hpp"
#include "logging/logging.hpp"

namespace istio_csr::actors::controllers {

runtime_issuer_config parse_runtime_issuer(const nlohmann::json& config_map) {
  kube::config_map_view view{config_map};
  runtime_issuer_config result;
  auto read = [&](const char* key) {
    auto value = view.data(key);
    if (!value || value->empty()) {
      result.errors.push_back(std::string{"missing or empty key \""} + key
                              + "\" in ConfigMap data");
      return std::string{};
    }
    return std::move(*value);
  };
  kube::issuer_ref ref;
  ref.name = read(issuer_name_key);
  ref.kind = read(issuer_kind_key);
  ref.group = read(issuer_group_key);
  if (result.errors.empty())
    result.issuer = std::move(ref);
  return result;
}

runtime_issuer_options
runtime_issuer_options_from(const config::options& opts) {
  runtime_issuer_options result;
  result.name = opts.runtime_config.name;
  result.namespace_ = opts.runtime_config.namespace_;
  if (opts.issuer.static_issuer)
    result.static_issuer = kube::issuer_ref{opts.issuer.static_issuer->name,
                                            opts.issuer.static_issuer->kind,
                                            opts.issuer.static_issuer->group};
  return result;
}

namespace {

std::string text(const std::optional<kube::issuer_ref>& ref) {
  if (!ref)
    return "<none>";
  return ref->name + "/" + ref->kind + "/" + ref->group;
}

std::string join(const std::vector<std::string>& xs) {
  std::string result;
  for (const auto& x : xs) {
    if (!result.empty())
      result += "; ";
    result += x;
  }
  return result;
}

struct runtime_issuer_state {
  runtime_issuer_options opts;
  std::shared_ptr<signing::active_issuer> issuer;
  reconcile::actor_informer inf;
  std::shared_ptr<spdlog::logger> log;
  runtime_issuer_status status;

  static inline const char* name = "runtime-issuer";
};

using runtime_issuer_actor = caf::stateful_actor<runtime_issuer_state>;

/// Makes `ref` the active issuer; logs when it changes.
void activate(runtime_issuer_actor* self,
              const std::optional<kube::issuer_ref>& ref,
              const std::string& why) {
  auto& st = self->state;
  auto before = st.issuer->get();
  if (before == ref)
    return;
  st.issuer->set(ref);
  if (ref)
    logging::info(*st.log, why,
                  {{"namespace", st.opts.namespace_},
                   {"name", st.opts.name},
                   {"issuer", text(ref)},
                   {"previous", text(before)}});
  else
    logging::warn(*st.log, why,
                  {{"namespace", st.opts.namespace_},
                   {"name", st.opts.name},
                   {"previous", text(before)}});
}

void revert(runtime_issuer_actor* self, const char* reason) {
  auto& st = self->state;
  st.status.present = false;
  st.status.configured.reset();
  if (st.issuer->get() == st.opts.static_issuer)
    return;
  ++st.status.reverted;
  auto msg = std::string{reason}
             + (st.opts.static_issuer
                  ? ": reverted to the startup issuer"
                  : ": no issuer is configured, signing is refused until "
                    "the runtime configuration returns");
  activate(self, st.opts.static_issuer, msg);
}

void on_object(runtime_issuer_actor* self, const nlohmann::json& cm) {
  auto& st = self->state;
  st.status.present = true;
  auto cfg = parse_runtime_issuer(cm);
  if (!cfg.issuer) {
    ++st.status.rejected;
    st.status.last_error = join(cfg.errors);
    logging::error(*st.log,
                   "invalid runtime issuer configuration, keeping the "
                   "previous issuer",
                   {{"namespace", st.opts.namespace_},
                    {"name", st.opts.name},
                    {"err", st.status.last_error},
                    {"issuer", text(st.issuer->get())}});
    return;
  }
  st.status.configured = cfg.issuer;
  if (st.issuer->get() == cfg.issuer)
    return;
  ++st.status.applied;
  activate(self, cfg.issuer, "runtime issuer configuration applied");
}

void on_event(runtime_issuer_actor* self, const kube::informer_event& ev) {
  auto& st = self->state;
  if (!st.inf.accept(ev))
    return;
  switch (ev.type) {
    case kube::informer_event_type::added:
    case kube::informer_event_type::updated:
      if (ev.object)
        on_object(self, *ev.object);
      break;
    case kube::informer_event_type::deleted:
      revert(self, "runtime issuer ConfigMap deleted");
      break;
    case kube::informer_event_type::synced:
      st.status.synced = true;
      logging::debug(*st.log, "runtime issuer ConfigMap listed",
                     {{"namespace", st.opts.namespace_},
                      {"name", st.opts.name},
                      {"found", st.inf->size() > 0 ? "true" : "false"}});
      // Deleted while a previous incarnation was down: nothing else would
      // tell us.
      if (st.inf->size() == 0)
        revert(self, "runtime issuer ConfigMap not found");
      break;
  }
}

caf::behavior runtime_issuer_impl(runtime_issuer_actor* self,
                                  runtime_issuer_options opts,
                                  std::shared_ptr<kube::client> cli,
                                  std::shared_ptr<signing::active_issuer> iss) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.issuer = std::move(iss);
  st.log = logging::get("runtime-config-watcher");
  kube::informer_options io;
  io.res = kube::resources::configmaps;
  io.namespace_ = st.opts.namespace_;
  io.field_selector = "metadata.name=" + st.opts.name;
  io.min_watch_timeout = st.opts.min_watch_timeout;
  io.name = "runtime-configmap";
  st.inf.start(self, std::move(cli), std::move(io),
               runtime_issuer_event_atom::value);
  logging::info(*st.log, "watching the runtime issuer ConfigMap",
                {{"namespace", st.opts.namespace_},
                 {"name", st.opts.name},
                 {"startup-issuer", text(st.opts.static_issuer)}});
  introspection::enable(self, [self] {
    auto& st = self->state;
    return introspection::report{
      std::string{st.inf.synced() ? "synced" : "listing"} + ", issuer "
      + text(st.issuer->get())};
  });
  return {
    [self](runtime_issuer_event_atom, const kube::informer_event& ev) {
      on_event(self, ev);
    },
    [self](runtime_issuer_status_atom) {
      auto result = self->state.status;
      if (auto cache = self->state.inf.cache())
        result.watches = cache->get_stats().watches;
      return result;
    },
  };
}

} // namespace

caf::actor
spawn_runtime_issuer(caf::actor_system& sys, runtime_issuer_options opts,
                     std::shared_ptr<kube::client> client,
                     std::shared_ptr<signing::active_issuer> issuer) {
  return sys.spawn(runtime_issuer_impl, std::move(opts), std::move(client),
                   std::move(issuer));
}

child_spec
runtime_issuer_child(runtime_issuer_options opts,
                     std::shared_ptr<kube::client> client,
                     std::shared_ptr<signing::active_issuer> issuer) {
  return child_spec{
    runtime_issuer_name, [opts = std::move(opts), client = std::move(client),
                          issuer = std::move(issuer)](child_context& ctx) {
      return spawn_runtime_issuer(ctx.system(), opts, client, issuer);
    }};
}

} // namespace istio_csr::actors::controllers
