#include "actors/controllers/istiod_cert.hpp"

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"

#include "actors/reconcile/actor_informer.hpp"
#include "actors/reconcile/driver.hpp"
#include "actors/signing/active_issuer.hpp"
#include "actors/signing/messages.hpp"
#include "actors/signing/signing_tree.hpp"
#include "errors/describe.hpp"
#include "introspection/protocol.hpp"
#include "kube/api/errc.hpp"
#include "kube/api/object.hpp"
#include "kube/client/cancel_scope.hpp"
#include "kube/client/client_actor.hpp"
#include "kube/client/messages.hpp"
#include "kube/client/request.hpp"
#include "kube/client/resource.hpp"
#include "logging/logging.hpp"

namespace istio_csr::actors::controllers {

namespace {

using reconcile::result;

std::string text(const kube::issuer_ref& ref) {
  return ref.name + "/" + ref.kind + "/" + ref.group;
}

struct istiod_cert_state {
  istiod_cert_options opts;
  istiod_cert_deps deps;
  /// `namespace/name` of the Certificate: the driver's one key.
  std::string key;
  reconcile::actor_informer inf;
  std::optional<reconcile::driver> loop;
  std::shared_ptr<spdlog::logger> log;
  std::optional<kube::issuer_ref> issuer;
  istiod_cert_status status;
  /// Every request: none is sent after the actor is gone (killed with the
  /// leader-only tree when leadership is lost).
  kube::cancel_scope kube_calls;

  static inline const char* name = "istiod-cert";
};

using istiod_cert_actor = caf::stateful_actor<istiod_cert_state>;

void apply_desired(istiod_cert_actor* self, const nlohmann::json* current,
                   reconcile::completion done);

void create(istiod_cert_actor* self, const kube::issuer_ref& issuer,
            reconcile::completion done) {
  auto& st = self->state;
  self
    ->request(st.deps.kube, st.opts.request_timeout,
              st.kube_calls.bind(kube::request::create(
                kube::resources::certificates, st.opts.cert.namespace_,
                make_istiod_certificate(st.opts.cert, issuer))))
    .then(
      [self, issuer, done](kube::response&) {
        auto& st = self->state;
        ++st.status.creates;
        logging::info(*st.log, "created the istiod Certificate",
                      {{"namespace", st.opts.cert.namespace_},
                       {"name", st.opts.cert.name},
                       {"issuer", text(issuer)}});
        done(result::done());
      },
      [self, done](caf::error& err) {
        const char* step = "failed to create the istiod Certificate";
        if (!kube::is(err, kube::errc::already_exists)) {
          done(result::error(std::move(err), step));
          return;
        }
        ++self->state.status.conflicts;
        done(result::conflict(std::move(err), step));
      });
}

void update(istiod_cert_actor* self, nlohmann::json object,
            const kube::issuer_ref& issuer, kube::issuer_ref previous,
            reconcile::completion done) {
  auto& st = self->state;
  self
    ->request(st.deps.kube, st.opts.request_timeout,
              st.kube_calls.bind(kube::request::update(
                kube::resources::certificates, std::move(object))))
    .then(
      [self, issuer, previous, done](kube::response&) {
        auto& st = self->state;
        ++st.status.updates;
        logging::info(*st.log, "updated the istiod Certificate",
                      {{"namespace", st.opts.cert.namespace_},
                       {"name", st.opts.cert.name},
                       {"issuer", text(issuer)},
                       {"previous-issuer", text(previous)}});
        done(result::done());
      },
      [self, done](caf::error& err) {
        const char* step = "failed to update the istiod Certificate";
        if (kube::is(err, kube::errc::conflict)) {
          ++self->state.status.conflicts;
          done(result::conflict(std::move(err), step));
        } else if (kube::is(err, kube::errc::not_found)) {
          apply_desired(self, nullptr, done); // deleted meanwhile
        } else {
          done(result::error(std::move(err), step));
        }
      });
}

/// Brings `current` (nullptr: absent) to the desired state with the issuer
/// of now.
void apply_desired(istiod_cert_actor* self, const nlohmann::json* current,
                   reconcile::completion done) {
  auto& st = self->state;
  if (!st.issuer) {
    ++st.status.skipped;
    done(result::done());
    return;
  }
  auto issuer = *st.issuer;
  if (current == nullptr) {
    create(self, issuer, std::move(done));
    return;
  }
  auto object = istiod_cert_update(st.opts.cert, issuer, *current);
  if (object.is_null()) {
    done(result::done());
    return;
  }
  auto previous
    = kube::issuer_ref_of(kube::member_at(*current, {"spec", "issuerRef"}));
  update(self, std::move(object), issuer, std::move(previous), std::move(done));
}

/// The reconciler: from the informer cache, or after a conflict from the
/// API server.
void reconcile_cert(istiod_cert_actor* self, const reconcile::request& req,
                    reconcile::completion done) {
  auto& st = self->state;
  if (req.after_conflict) {
    self
      ->request(st.deps.kube, st.opts.request_timeout,
                st.kube_calls.bind(kube::request::get(
                  kube::resources::certificates, st.opts.cert.namespace_,
                  st.opts.cert.name)))
      .then(
        [self, done](kube::response& fresh) {
          apply_desired(self, &fresh.body(), done);
        },
        [self, done](caf::error& err) {
          if (kube::is(err, kube::errc::not_found))
            apply_desired(self, nullptr, done);
          else
            done(result::error(std::move(err),
                               "failed to get the istiod Certificate"));
        });
    return;
  }
  if (!st.inf.synced()) {
    done(result::done()); // the synced event triggers
    return;
  }
  if (!st.issuer) {
    ++st.status.skipped;
    logging::trace(*st.log, "no issuer configured, not reconciling the "
                            "istiod Certificate");
    done(result::done());
    return;
  }
  ++st.status.reconciles;
  auto obj = st.inf->get(st.opts.cert.namespace_, st.opts.cert.name);
  apply_desired(self, obj ? obj.get() : nullptr, std::move(done));
}

nlohmann::json strip(nlohmann::json obj) {
  if (auto m = obj.find("metadata"); m != obj.end() && m->is_object())
    m->erase("managedFields");
  return obj;
}

reconcile::driver make_loop(istiod_cert_actor* self) {
  auto& st = self->state;
  reconcile::options opts;
  opts.backoff.initial = st.opts.initial_backoff;
  opts.backoff.max = st.opts.max_backoff;
  // Events during a backoff join the scheduled retry.
  opts.triggers_wait_for_retry = true;
  // controller-runtime's default name for a controller of Certificates.
  opts.controller = "certificate";
  reconcile::hooks h;
  h.on_conflict_retry = [self](const std::string&, const result& r) {
    auto& st = self->state;
    logging::debug(*st.log,
                   "conflict on the istiod Certificate, retrying on "
                   "fresh state",
                   {{"namespace", st.opts.cert.namespace_},
                    {"name", st.opts.cert.name},
                    {"err", errors::describe(r.err)}});
  };
  h.on_backoff
    = [self](const std::string&, const result& r, caf::timespan delay) {
        auto& st = self->state;
        ++st.status.errors;
        st.status.last_error = r.step + ": " + errors::describe(r.err);
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(delay);
        logging::error(*st.log, "failed to reconcile the istiod Certificate",
                       {{"namespace", st.opts.cert.namespace_},
                        {"name", st.opts.cert.name},
                        {"err", st.status.last_error},
                        {"retry_in_ms", std::to_string(ms.count())}});
      };
  return reconcile::driver{
    self,
    [self](const reconcile::request& req, reconcile::completion done) {
      reconcile_cert(self, req, std::move(done));
    },
    std::move(opts), std::move(h)};
}

caf::behavior istiod_cert_impl(istiod_cert_actor* self,
                               istiod_cert_options opts,
                               istiod_cert_deps deps) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.deps = std::move(deps);
  st.key = st.opts.cert.namespace_ + "/" + st.opts.cert.name;
  st.log = logging::get("istiod-dynamic");
  st.loop.emplace(make_loop(self));
  if (!st.deps.kube) {
    st.deps.kube = kube::spawn_client_actor(self->system(), st.deps.client);
    self->link_to(st.deps.kube);
  }
  kube::informer_options io;
  io.res = kube::resources::certificates;
  io.namespace_ = st.opts.cert.namespace_;
  io.field_selector = "metadata.name=" + st.opts.cert.name;
  io.transform = strip;
  io.min_watch_timeout = st.opts.min_watch_timeout;
  io.name = "istiod-certificate";
  st.inf.start(self, st.deps.client, std::move(io),
               istiod_cert_event_atom::value);
  // Tells us the issuer now and on every change.
  st.deps.issuer->subscribe(caf::actor_cast<caf::actor>(self));
  self->attach_functor([issuer = st.deps.issuer, addr = self->address()] {
    issuer->unsubscribe(addr);
  });
  logging::info(
    *st.log, "managing the istiod Certificate",
    {{"namespace", st.opts.cert.namespace_}, {"name", st.opts.cert.name}});
  introspection::enable(self, [self] {
    auto& st = self->state;
    return introspection::report{
      std::string{st.inf.synced() ? "synced" : "listing"} + ", "
      + (st.issuer ? "issuer " + text(*st.issuer) : std::string{"no issuer"})};
  });
  return {
    [self](signing::issuer_changed_atom, const signing::issuer_update& up) {
      auto& st = self->state;
      if (up.issuer == st.issuer)
        return;
      st.issuer = up.issuer;
      if (st.issuer)
        logging::debug(*st.log,
                       "issuer changed, reconciling the istiod "
                       "Certificate",
                       {{"issuer", text(*st.issuer)}});
      st.loop->trigger(st.key);
    },
    [self](istiod_cert_event_atom, const kube::informer_event& ev) {
      auto& st = self->state;
      if (st.inf.accept(ev))
        st.loop->trigger(st.key);
    },
    st.loop->timers(),
    [self](istiod_cert_status_atom) {
      auto& st = self->state;
      auto result = st.status;
      result.synced = st.inf.synced();
      result.issuer = st.issuer;
      result.busy = st.loop->busy(st.key);
      return result;
    },
  };
}

} // namespace

caf::actor spawn_istiod_cert(caf::actor_system& sys, istiod_cert_options opts,
                             istiod_cert_deps deps) {
  return sys.spawn(istiod_cert_impl, std::move(opts), std::move(deps));
}

child_spec istiod_cert_child(istiod_cert_options opts,
                             std::shared_ptr<kube::client> client,
                             std::shared_ptr<signing::active_issuer> issuer,
                             kube::client_actor kube) {
  return child_spec{
    istiod_cert_name,
    [opts = std::move(opts), client = std::move(client),
     issuer = std::move(issuer), kube = std::move(kube)](child_context& ctx) {
      istiod_cert_deps deps;
      deps.client = client;
      deps.kube = kube;
      deps.issuer = issuer;
      return spawn_istiod_cert(ctx.system(), opts, std::move(deps));
    }};
}

std::function<child_spec(child_context&)>
istiod_cert_factory(istiod_cert_options opts,
                    std::shared_ptr<kube::client> client,
                    std::shared_ptr<signing::active_issuer> issuer) {
  return [opts = std::move(opts), client = std::move(client),
          issuer = std::move(issuer)](child_context& ctx) {
    // The root supervisor's kube client façade.
    return istiod_cert_child(
      opts, client, issuer,
      ctx.sibling_as<kube::client_actor>(signing::names::kube_client));
  };
}

} // namespace istio_csr::actors::controllers
