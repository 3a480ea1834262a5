#include "actors/controllers/configmap_actor.hpp"

#include <algorithm>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"

#include "actors/controllers/messages.hpp"
#include "actors/controllers/root_cert.hpp"
#include "actors/signing/messages.hpp"
#include "actors/supervisor/errors.hpp"
#include "errors/describe.hpp"
#include "kube/api/errc.hpp"
#include "kube/client/informer.hpp"
#include "logging/logging.hpp"

namespace istio_csr::actors::controllers {

namespace {

using signing::roots_changed_atom;
using signing::roots_ptr;
using signing::roots_subscribe_atom;

struct configmap_state {
  std::string ns;
  configmap_options opts;
  configmap_deps deps;
  roots_ptr roots;
  /// A check (read and maybe write) is in flight.
  bool busy = false;
  /// A trigger arrived during the check: check once more afterwards.
  bool again = false;
  /// Consecutive failures (backoff) and conflicts (immediate retries).
  std::size_t failures = 0;
  std::size_t conflicts_in_row = 0;
  /// Identifies the pending retry timer; bumped to cancel it.
  uint64_t retry_token = 0;
  configmap_stats stats;
  std::shared_ptr<spdlog::logger> log;

  static inline const char* name = "configmap";
};

using configmap_actor = caf::stateful_actor<configmap_state>;

void check(configmap_actor* self);
void read(configmap_actor* self);

/// The check is over: run the next one if anything arrived meanwhile.
void finish(configmap_actor* self) {
  auto& st = self->state;
  st.busy = false;
  st.stats.converged = true;
  st.failures = 0;
  st.conflicts_in_row = 0;
  if (st.again) {
    st.again = false;
    check(self);
  }
}

/// A call failed: retry after a backoff (a pending trigger is served by the
/// retry).
void fail(configmap_actor* self, const char* step, const caf::error& err) {
  auto& st = self->state;
  ++st.stats.errors;
  ++st.failures;
  auto exp = std::min<std::size_t>(st.failures - 1, 20);
  auto delay = std::min<std::chrono::milliseconds>(
    st.opts.max_backoff, st.opts.initial_backoff * (int64_t{1} << exp));
  logging::warn(*st.log, "failed to reconcile ConfigMap, retrying",
                {{"namespace", st.ns},
                 {"step", step},
                 {"error", errors::describe(err)},
                 {"retry-in", std::to_string(delay.count()) + "ms"}});
  st.busy = false;
  st.again = false;
  st.stats.converged = false;
  self->delayed_send(self, delay, reconcile_retry_atom::value,
                     ++st.retry_token);
}

/// Someone else wrote in between: start over on fresh state (skipping the
/// cache, which may lag behind the state that made us conflict).
void conflict(configmap_actor* self, const char* step, const caf::error& err) {
  auto& st = self->state;
  ++st.stats.conflicts;
  if (++st.conflicts_in_row > st.opts.conflict_retries) {
    st.conflicts_in_row = 0;
    fail(self, step, err);
    return;
  }
  logging::debug(*st.log,
                 "ConfigMap changed meanwhile, retrying on fresh state",
                 {{"namespace", st.ns}, {"step", step}});
  st.again = false;
  read(self);
}

void write_done(configmap_actor* self, const char* what) {
  logging::info(*self->state.log, what,
                {{"namespace", self->state.ns},
                 {"name", std::string{root_cert_config_map}}});
  finish(self);
}

/// Writes what `current` (fresh from the API server) lacks.
void apply_plan(configmap_actor* self, const nlohmann::json* current) {
  auto& st = self->state;
  auto plan = plan_root_cert(st.ns, current, st.roots->pem);
  switch (plan.act) {
    case root_cert_plan::action::none: finish(self); return;
    case root_cert_plan::action::create:
      self
        ->request(st.deps.kube, st.opts.request_timeout,
                  kube::request::create(kube::resources::configmaps, st.ns,
                                        std::move(plan.object)))
        .then(
          [self](nlohmann::json&) {
            ++self->state.stats.creates;
            write_done(self, "created ConfigMap");
          },
          [self](caf::error& err) {
            if (kube::is(err, kube::errc::already_exists))
              conflict(self, "create", err);
            else
              fail(self, "create", err);
          });
      return;
    case root_cert_plan::action::update:
      self
        ->request(st.deps.kube, st.opts.request_timeout,
                  kube::request::update(kube::resources::configmaps,
                                        std::move(plan.object)))
        .then(
          [self](nlohmann::json&) {
            ++self->state.stats.updates;
            write_done(self, "updated ConfigMap data");
          },
          [self](caf::error& err) {
            // Not found: deleted since we read it; a fresh read creates it.
            if (kube::is(err, kube::errc::conflict)
                || kube::is(err, kube::errc::not_found))
              conflict(self, "update", err);
            else
              fail(self, "update", err);
          });
      return;
  }
}

/// Reads the ConfigMap from the API server and applies the plan.
void read(configmap_actor* self) {
  auto& st = self->state;
  st.busy = true;
  ++st.stats.reads;
  self
    ->request(st.deps.kube, st.opts.request_timeout,
              kube::request::get(kube::resources::configmaps, st.ns,
                                 std::string{root_cert_config_map}))
    .then([self](nlohmann::json& cm) { apply_plan(self, &cm); },
          [self](caf::error& err) {
            if (kube::is(err, kube::errc::not_found))
              apply_plan(self, nullptr);
            else
              fail(self, "get", err);
          });
}

void check(configmap_actor* self) {
  auto& st = self->state;
  if (st.busy) {
    st.again = true;
    return;
  }
  if (!st.roots) {
    logging::trace(*st.log, "no roots yet, waiting", {{"namespace", st.ns}});
    return;
  }
  // Any pending retry is served by this check.
  ++st.retry_token;
  ++st.stats.reconciles;
  if (st.deps.cache) {
    auto cached = st.deps.cache->get(st.ns, root_cert_config_map);
    if (cached && root_cert_converged(st.ns, cached.get(), st.roots->pem)) {
      st.stats.converged = true;
      st.failures = 0;
      st.conflicts_in_row = 0;
      return;
    }
  }
  read(self);
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
  st.stats.self = caf::actor_cast<caf::actor>(self);
  st.stats.namespace_ = st.ns;
  // The roots arrive as a message (now, if known); that first message runs
  // the first check.
  subscribe_roots(self);
  return {
    [self](roots_changed_atom, roots_ptr& roots) {
      if (!roots)
        return;
      self->state.roots = std::move(roots);
      check(self);
    },
    [self](reconcile_atom) { check(self); },
    [self](reconcile_retry_atom, uint64_t token) {
      if (token == self->state.retry_token)
        check(self);
    },
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
