#include "actors/controllers/configmap_actor.hpp"

#include <optional>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"

#include "actors/controllers/cache_records.hpp"
#include "actors/controllers/messages.hpp"
#include "actors/controllers/root_cert.hpp"
#include "actors/reconcile/driver.hpp"
#include "actors/signing/messages.hpp"
#include "actors/supervisor/errors.hpp"
#include "errors/describe.hpp"
#include "introspection/protocol.hpp"
#include "kube/api/errc.hpp"
#include "kube/client/cancel_scope.hpp"
#include "kube/client/informer.hpp"
#include "logging/logging.hpp"
#include "metrics/istio_csr.hpp"

namespace istio_csr::actors::controllers {

namespace {

using reconcile::result;
using signing::roots_changed_atom;
using signing::roots_ptr;
using signing::roots_subscribe_atom;

struct configmap_state {
  std::string ns;
  configmap_options opts;
  configmap_deps deps;
  roots_ptr roots;
  /// One key: the namespace.
  std::optional<reconcile::driver> loop;
  configmap_stats stats;
  std::shared_ptr<spdlog::logger> log;
  /// Every request: none is sent after the actor is gone (killed with the
  /// leader-only tree when leadership is lost).
  kube::cancel_scope kube_calls;

  static inline const char* name = "configmap";
};

using configmap_actor = caf::stateful_actor<configmap_state>;

/// The ConfigMap is as wanted.
result converged(configmap_actor* self) {
  self->state.stats.converged = true;
  return result::done();
}

result written(configmap_actor* self, const char* what) {
  logging::info(*self->state.log, what,
                {{"namespace", self->state.ns},
                 {"name", std::string{root_cert_config_map}}});
  return converged(self);
}

result conflict(configmap_actor* self, caf::error err, const char* step) {
  ++self->state.stats.conflicts;
  return result::conflict(std::move(err), step);
}

/// Writes what `current` (fresh from the API server) lacks.
void apply_plan(configmap_actor* self, const nlohmann::json* current,
                reconcile::completion done) {
  auto& st = self->state;
  auto plan = plan_root_cert(st.ns, current, st.roots->pem);
  switch (plan.act) {
    case root_cert_plan::action::none: done(converged(self)); return;
    case root_cert_plan::action::create:
      self
        ->request(
          st.deps.kube, st.opts.request_timeout,
          st.kube_calls.bind(kube::request::create(
            kube::resources::configmaps, st.ns, std::move(plan.object))))
        .then(
          [self, done](kube::response&) {
            ++self->state.stats.creates;
            metrics::ours().configmaps_repaired.inc();
            done(written(self, "created ConfigMap"));
          },
          [self, done](caf::error& err) {
            if (kube::is(err, kube::errc::already_exists))
              done(conflict(self, std::move(err), "create"));
            else
              done(result::error(std::move(err), "create"));
          });
      return;
    case root_cert_plan::action::update:
      self
        ->request(st.deps.kube, st.opts.request_timeout,
                  st.kube_calls.bind(kube::request::update(
                    kube::resources::configmaps, std::move(plan.object))))
        .then(
          [self, done](kube::response&) {
            ++self->state.stats.updates;
            metrics::ours().configmaps_repaired.inc();
            done(written(self, "updated ConfigMap data"));
          },
          [self, done](caf::error& err) {
            // Not found: deleted since we read it; a fresh read creates it.
            if (kube::is(err, kube::errc::conflict)
                || kube::is(err, kube::errc::not_found))
              done(conflict(self, std::move(err), "update"));
            else
              done(result::error(std::move(err), "update"));
          });
      return;
  }
}

/// The reconciler. As controller-runtime's cached client, the plan comes
/// from the informer cache (the actor starts once it is synced): an idle
/// cluster costs no request, and a namespace that needs its ConfigMap
/// costs one write. A cache that lags behind makes that write conflict
/// (409, AlreadyExists, NotFound), and the retry after a conflict reads the
/// ConfigMap from the API server. Without a cache (tests), it is read too.
void check(configmap_actor* self, const reconcile::request& req,
           reconcile::completion done) {
  auto& st = self->state;
  if (!st.roots) {
    logging::trace(*st.log, "no roots yet, waiting", {{"namespace", st.ns}});
    done(result::done());
    return;
  }
  if (!req.after_conflict) {
    ++st.stats.reconciles;
    if (st.deps.cache) {
      std::optional<nlohmann::json> current;
      if (auto cached = st.deps.cache->get(st.ns, root_cert_config_map))
        current = read_record(*cached);
      apply_plan(self, current ? &*current : nullptr, std::move(done));
      return;
    }
  }
  ++st.stats.reads;
  self
    ->request(
      st.deps.kube, st.opts.request_timeout,
      st.kube_calls.bind(kube::request::get(kube::resources::configmaps, st.ns,
                                            std::string{root_cert_config_map})))
    .then(
      [self, done](kube::response& cm) { apply_plan(self, &cm.body(), done); },
      [self, done](caf::error& err) {
        if (kube::is(err, kube::errc::not_found))
          apply_plan(self, nullptr, done);
        else
          done(result::error(std::move(err), "get"));
      });
}

reconcile::driver make_loop(configmap_actor* self) {
  auto& st = self->state;
  reconcile::options opts;
  opts.backoff.initial = st.opts.initial_backoff;
  opts.backoff.max = st.opts.max_backoff;
  opts.max_conflict_retries = st.opts.conflict_retries;
  // Upstream's controller name: every namespace's actor shares its series.
  opts.controller = "configmap";
  reconcile::hooks h;
  h.on_conflict_retry = [self](const std::string&, const result& r) {
    logging::debug(*self->state.log,
                   "ConfigMap changed meanwhile, retrying on fresh state",
                   {{"namespace", self->state.ns}, {"step", r.step}});
  };
  h.on_backoff
    = [self](const std::string&, const result& r, caf::timespan delay) {
        auto& st = self->state;
        ++st.stats.errors;
        st.stats.converged = false;
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(delay);
        logging::warn(*st.log, "failed to reconcile ConfigMap, retrying",
                      {{"namespace", st.ns},
                       {"step", r.step},
                       {"err", errors::describe(r.err)},
                       {"retry-in", std::to_string(ms.count()) + "ms"}});
      };
  return reconcile::driver{
    self,
    [self](const reconcile::request& req, reconcile::completion done) {
      check(self, req, std::move(done));
    },
    std::move(opts), std::move(h)};
}

/// Subscribes to root-ca. A request, not a message: one queued in a
/// root-ca incarnation that dies is re-delivered by the stable handle, and
/// one caught mid-restart is asked again, so no actor waits for roots
/// forever.
void subscribe_roots(configmap_actor* self) {
  if (!self->state.deps.roots)
    return;
  self
    ->request(self->state.deps.roots, caf::infinite,
              roots_subscribe_atom::value, caf::actor_cast<caf::actor>(self))
    .then([] {},
          [self](const caf::error& err) {
            if (err == make_error(supervisor_errc::child_restarted))
              subscribe_roots(self);
          });
}

caf::behavior configmap_impl(configmap_actor* self, std::string ns,
                             configmap_options opts, configmap_deps deps) {
  auto& st = self->state;
  st.ns = std::move(ns);
  st.opts = opts;
  st.deps = std::move(deps);
  st.log = logging::get("controller/configmap");
  st.stats.namespace_ = st.ns;
  st.loop.emplace(make_loop(self));
  // The roots arrive as a message (now, if known); that first message runs
  // the first check.
  introspection::enable(self, [self] {
    auto& st = self->state;
    return introspection::report{
      std::string{st.stats.converged ? "converged" : "not converged"} + ", "
      + std::to_string(st.stats.reconciles) + " checks"};
  });
  subscribe_roots(self);
  return {
    [self](roots_changed_atom, roots_ptr& roots) {
      if (!roots)
        return;
      self->state.roots = std::move(roots);
      self->state.loop->trigger(self->state.ns);
    },
    [self](reconcile_atom) { self->state.loop->trigger(self->state.ns); },
    self->state.loop->timers(),
    [self](configmap_stats_atom) { return self->state.stats; },
  };
}

} // namespace

caf::actor spawn_configmap_actor(caf::actor_system& sys, std::string namespace_,
                                 configmap_options opts, configmap_deps deps) {
  return sys.spawn(configmap_impl, std::move(namespace_), std::move(opts),
                   std::move(deps));
}

} // namespace istio_csr::actors::controllers
