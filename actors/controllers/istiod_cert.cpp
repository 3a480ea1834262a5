#include "actors/controllers/istiod_cert.hpp"

#include <algorithm>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/send.hpp"
#include "caf/stateful_actor.hpp"

#include "actors/signing/active_issuer.hpp"
#include "actors/signing/messages.hpp"
#include "actors/signing/signing_tree.hpp"
#include "errors/describe.hpp"
#include "kube/api/errc.hpp"
#include "kube/api/object.hpp"
#include "kube/client/client_actor.hpp"
#include "kube/client/informer.hpp"
#include "kube/client/messages.hpp"
#include "kube/client/request.hpp"
#include "kube/client/resource.hpp"
#include "logging/logging.hpp"

namespace istio_csr::actors::controllers {

namespace {

/// Consecutive conflicts after which a reconcile backs off instead of
/// re-reading at once (another writer keeps changing the object).
constexpr uint64_t max_conflict_streak = 5;

std::string text(const kube::issuer_ref& ref) {
  return ref.name + "/" + ref.kind + "/" + ref.group;
}

struct istiod_cert_state {
  istiod_cert_options opts;
  istiod_cert_deps deps;
  std::shared_ptr<kube::informer> inf;
  std::shared_ptr<spdlog::logger> log;
  std::optional<kube::issuer_ref> issuer;
  /// An API call is in flight, or a retry is scheduled.
  bool busy = false;
  /// Something happened during the call: reconcile again afterwards.
  bool dirty = false;
  uint64_t retry_token = 0;
  /// Consecutive failures (backoff) and conflicts.
  uint64_t failure_streak = 0;
  uint64_t conflict_streak = 0;
  istiod_cert_status status;

  ~istiod_cert_state() {
    if (inf)
      inf->stop();
  }

  static inline const char* name = "istiod-cert";
};

using istiod_cert_actor = caf::stateful_actor<istiod_cert_state>;

void reconcile(istiod_cert_actor* self);
void apply_desired(istiod_cert_actor* self, const nlohmann::json* current);

/// The call ended well (or there was nothing to do).
void finished(istiod_cert_actor* self) {
  auto& st = self->state;
  st.busy = false;
  st.failure_streak = 0;
  st.conflict_streak = 0;
  if (st.dirty) {
    st.dirty = false;
    reconcile(self);
  }
}

/// The call failed: retry after a backoff (which also covers whatever
/// happened meanwhile).
void failed(istiod_cert_actor* self, const std::string& what,
            const caf::error& err) {
  auto& st = self->state;
  ++st.status.errors;
  ++st.failure_streak;
  st.conflict_streak = 0;
  st.status.last_error = what + ": " + errors::describe(err);
  auto exp = std::min<uint64_t>(st.failure_streak - 1, 20);
  std::chrono::milliseconds delay = std::min(
    st.opts.initial_backoff * (int64_t{1} << exp), st.opts.max_backoff);
  logging::error(*st.log, "failed to reconcile the istiod Certificate",
                 {{"namespace", st.opts.cert.namespace_},
                  {"name", st.opts.cert.name},
                  {"error", st.status.last_error},
                  {"retry_in_ms", std::to_string(delay.count())}});
  st.dirty = false;
  // Stays busy until the retry.
  self->delayed_send(self, delay, istiod_cert_retry_atom::value,
                     ++st.retry_token);
}

/// Reads the object from the API server (not the cache) and applies the
/// desired state to it.
void refetch(istiod_cert_actor* self) {
  auto& st = self->state;
  self
    ->request(st.deps.kube, st.opts.request_timeout,
              kube::request::get(kube::resources::certificates,
                                 st.opts.cert.namespace_, st.opts.cert.name))
    .then([self](nlohmann::json& fresh) { apply_desired(self, &fresh); },
          [self](caf::error& err) {
            if (kube::is(err, kube::errc::not_found))
              apply_desired(self, nullptr);
            else
              failed(self, "failed to get the istiod Certificate", err);
          });
}

/// A 409: re-read and try again, unless it keeps happening.
void conflicted(istiod_cert_actor* self, const std::string& what,
                const caf::error& err) {
  auto& st = self->state;
  ++st.status.conflicts;
  if (++st.conflict_streak > max_conflict_streak) {
    failed(self, what, err);
    return;
  }
  logging::debug(*st.log,
                 "conflict on the istiod Certificate, retrying on "
                 "fresh state",
                 {{"namespace", st.opts.cert.namespace_},
                  {"name", st.opts.cert.name},
                  {"error", errors::describe(err)}});
  refetch(self);
}

void create(istiod_cert_actor* self, const kube::issuer_ref& issuer) {
  auto& st = self->state;
  self
    ->request(st.deps.kube, st.opts.request_timeout,
              kube::request::create(
                kube::resources::certificates, st.opts.cert.namespace_,
                make_istiod_certificate(st.opts.cert, issuer)))
    .then(
      [self, issuer](nlohmann::json&) {
        auto& st = self->state;
        ++st.status.creates;
        logging::info(*st.log, "created the istiod Certificate",
                      {{"namespace", st.opts.cert.namespace_},
                       {"name", st.opts.cert.name},
                       {"issuer", text(issuer)}});
        finished(self);
      },
      [self](caf::error& err) {
        if (kube::is(err, kube::errc::already_exists))
          conflicted(self, "failed to create the istiod Certificate", err);
        else
          failed(self, "failed to create the istiod Certificate", err);
      });
}

void update(istiod_cert_actor* self, nlohmann::json object,
            const kube::issuer_ref& issuer, kube::issuer_ref previous) {
  auto& st = self->state;
  self
    ->request(
      st.deps.kube, st.opts.request_timeout,
      kube::request::update(kube::resources::certificates, std::move(object)))
    .then(
      [self, issuer, previous](nlohmann::json&) {
        auto& st = self->state;
        ++st.status.updates;
        logging::info(*st.log, "updated the istiod Certificate",
                      {{"namespace", st.opts.cert.namespace_},
                       {"name", st.opts.cert.name},
                       {"issuer", text(issuer)},
                       {"previous-issuer", text(previous)}});
        finished(self);
      },
      [self](caf::error& err) {
        if (kube::is(err, kube::errc::conflict))
          conflicted(self, "failed to update the istiod Certificate", err);
        else if (kube::is(err, kube::errc::not_found))
          apply_desired(self, nullptr); // deleted meanwhile
        else
          failed(self, "failed to update the istiod Certificate", err);
      });
}

/// Brings `current` (nullptr: absent) to the desired state with the issuer
/// of now. Called with `busy` set.
void apply_desired(istiod_cert_actor* self, const nlohmann::json* current) {
  auto& st = self->state;
  if (!st.issuer) {
    ++st.status.skipped;
    finished(self);
    return;
  }
  auto issuer = *st.issuer;
  if (current == nullptr) {
    create(self, issuer);
    return;
  }
  auto object = istiod_cert_update(st.opts.cert, issuer, *current);
  if (object.is_null()) {
    finished(self);
    return;
  }
  auto previous
    = kube::issuer_ref_of(kube::member_at(*current, {"spec", "issuerRef"}));
  update(self, std::move(object), issuer, std::move(previous));
}

void reconcile(istiod_cert_actor* self) {
  auto& st = self->state;
  if (st.busy) {
    st.dirty = true;
    return;
  }
  if (!st.inf->synced())
    return; // the synced event reconciles
  if (!st.issuer) {
    ++st.status.skipped;
    logging::trace(*st.log, "no issuer configured, not reconciling the "
                            "istiod Certificate");
    return;
  }
  ++st.status.reconciles;
  st.busy = true;
  auto obj = st.inf->get(st.opts.cert.namespace_, st.opts.cert.name);
  apply_desired(self, obj ? obj.get() : nullptr);
}

nlohmann::json strip(nlohmann::json obj) {
  if (auto m = obj.find("metadata"); m != obj.end() && m->is_object())
    m->erase("managedFields");
  return obj;
}

caf::behavior istiod_cert_impl(istiod_cert_actor* self,
                               istiod_cert_options opts,
                               istiod_cert_deps deps) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.deps = std::move(deps);
  st.log = logging::get("istiod-dynamic");
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
  st.inf = kube::informer::make(
    st.deps.client, std::move(io),
    [addr = self->address()](const kube::informer_event& ev) {
      if (auto hdl = caf::actor_cast<caf::actor>(addr))
        caf::anon_send(hdl, istiod_cert_event_atom::value, ev);
    });
  st.inf->start();
  // Tells us the issuer now and on every change.
  st.deps.issuer->subscribe(caf::actor_cast<caf::actor>(self));
  self->attach_functor([issuer = st.deps.issuer, addr = self->address()] {
    issuer->unsubscribe(addr);
  });
  logging::info(
    *st.log, "managing the istiod Certificate",
    {{"namespace", st.opts.cert.namespace_}, {"name", st.opts.cert.name}});
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
      reconcile(self);
    },
    [self](istiod_cert_event_atom, const kube::informer_event&) {
      reconcile(self);
    },
    [self](istiod_cert_retry_atom, uint64_t token) {
      auto& st = self->state;
      if (token != st.retry_token || !st.busy)
        return;
      st.busy = false;
      st.dirty = false;
      reconcile(self);
    },
    [self](istiod_cert_status_atom) {
      auto& st = self->state;
      auto result = st.status;
      result.synced = st.inf->synced();
      result.issuer = st.issuer;
      result.busy = st.busy;
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
                             caf::actor kube) {
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
    return istiod_cert_child(opts, client, issuer,
                             ctx.sibling(signing::names::kube_client));
  };
}

} // namespace istio_csr::actors::controllers
