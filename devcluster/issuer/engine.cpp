#include "devcluster/issuer/engine.hpp"

#include <algorithm>

#include "devcluster/issuer/key_worker.hpp"
#include "devcluster/issuer/status.hpp"
#include "errors/describe.hpp"
#include "kube/api/errc.hpp"
#include "kube/api/object.hpp"
#include "kube/client/client.hpp"
#include "kube/client/resource.hpp"
#include "logging/logging.hpp"

namespace istio_csr::devcluster::issuer {

namespace {

constexpr std::chrono::milliseconds initial_backoff{200};
constexpr std::chrono::milliseconds max_backoff{30000};
/// Conflicts in a row before a key backs off like any other failure.
constexpr int max_conflicts = 8;

std::pair<std::string, std::string> split_key(const std::string& key) {
  auto slash = key.find('/');
  if (slash == std::string::npos)
    return {std::string{}, key};
  return {key.substr(0, slash), key.substr(slash + 1)};
}

const kube::resource& resource_of(engine::kind k) {
  switch (k) {
    case engine::kind::request: return kube::resources::certificaterequests;
    case engine::kind::certificate: return kube::resources::certificates;
    case engine::kind::issuer: return kube::resources::issuers;
    case engine::kind::cluster_issuer: break;
  }
  return kube::resources::clusterissuers;
}

bool terminal_request(const nlohmann::json& cr) {
  if (has_condition(cr, "Ready", "True"))
    return true;
  auto* ready = condition_json(cr, "Ready");
  if (ready == nullptr)
    return false;
  const auto& reason = kube::string_at(*ready, {"reason"});
  return reason == "Failed" || reason == "Denied";
}

} // namespace

engine::engine(std::shared_ptr<kube::client> cli, key_worker& worker)
  : cli_(std::move(cli)), worker_(worker),
    log_(logging::get("devcluster-issuer")) {
  // nop
}

engine::~engine() = default;

void engine::start() {
  std::weak_ptr<engine> weak = weak_from_this();
  auto make = [&](const kube::resource& res,
                  void (engine::*fn)(const kube::informer_event&)) {
    kube::informer_options opts;
    opts.res = res;
    opts.name = "devcluster-issuer/" + std::string{res.plural};
    return kube::informer::make(cli_, std::move(opts),
                                [weak, fn](const kube::informer_event& ev) {
                                  auto self = weak.lock();
                                  if (self && !self->stopped_)
                                    ((*self).*fn)(ev);
                                });
  };
  issuers_ = make(kube::resources::issuers, &engine::on_namespaced_issuer);
  cluster_issuers_
    = make(kube::resources::clusterissuers, &engine::on_cluster_issuer);
  secrets_ = make(kube::resources::secrets, &engine::on_secret_event);
  requests_
    = make(kube::resources::certificaterequests, &engine::on_request_event);
  certificates_
    = make(kube::resources::certificates, &engine::on_certificate_event);
  for (auto* inf :
       {&issuers_, &cluster_issuers_, &secrets_, &requests_, &certificates_})
    (*inf)->start();
  logging::info(*log_, "cert-manager controllers started",
                {{"server", cli_->server()}});
}

void engine::shutdown() {
  if (stopped_)
    return;
  stopped_ = true;
  for (auto* inf :
       {&issuers_, &cluster_issuers_, &secrets_, &requests_, &certificates_})
    if (*inf) {
      (*inf)->stop();
      inf->reset();
    }
  queued_.clear();
  busy_.clear();
  dirty_.clear();
  cli_.reset();
}

// -- queue --------------------------------------------------------------------

bool engine::all_synced() const {
  for (auto* inf :
       {&issuers_, &cluster_issuers_, &secrets_, &requests_, &certificates_})
    if (!*inf || !(*inf)->synced())
      return false;
  return true;
}

void engine::enqueue(kind k, const std::string& key) {
  if (stopped_)
    return;
  item it{k, key};
  if (busy_.count(it) > 0) {
    dirty_.insert(std::move(it));
    return;
  }
  queued_.insert(std::move(it));
  if (!drain_posted_) {
    drain_posted_ = true;
    std::weak_ptr<engine> weak = weak_from_this();
    cli_->post([weak] {
      if (auto self = weak.lock(); self && !self->stopped_)
        self->drain();
    });
  }
}

void engine::enqueue_after(kind k, const std::string& key,
                           std::chrono::milliseconds delay) {
  if (stopped_)
    return;
  std::weak_ptr<engine> weak = weak_from_this();
  cli_->schedule(delay, [weak, k, key] {
    if (auto self = weak.lock(); self && !self->stopped_)
      self->enqueue(k, key);
  });
}

void engine::enqueue_at(kind k, const std::string& key,
                        std::chrono::system_clock::time_point when) {
  if (stopped_)
    return;
  auto now = std::chrono::system_clock::now();
  item it{k, key};
  if (auto i = timers_.find(it);
      i != timers_.end() && i->second <= when && i->second > now)
    return;
  timers_[it] = when;
  // Long waits are cut into pieces: the reconcile at the end of each one
  // schedules the rest.
  auto delay = std::clamp(
    std::chrono::duration_cast<std::chrono::milliseconds>(when - now),
    std::chrono::milliseconds{0},
    std::chrono::milliseconds{std::chrono::hours{12}});
  std::weak_ptr<engine> weak = weak_from_this();
  cli_->schedule(delay + std::chrono::milliseconds{10}, [weak, it, when] {
    auto self = weak.lock();
    if (!self || self->stopped_)
      return;
    if (auto i = self->timers_.find(it);
        i != self->timers_.end() && i->second == when)
      self->timers_.erase(i);
    self->enqueue(it.first, it.second);
  });
}

void engine::drain() {
  drain_posted_ = false;
  if (!all_synced())
    return; // the last `synced` notification drains again
  auto items = std::move(queued_);
  queued_.clear();
  for (auto& it : items) {
    if (stopped_)
      return;
    if (busy_.count(it) > 0) {
      dirty_.insert(it);
      continue;
    }
    run(it, nullptr);
  }
}

void engine::run(const item& it, const nlohmann::json* fresh) {
  busy_.insert(it);
  std::weak_ptr<engine> weak = weak_from_this();
  finish_fn done = [weak, it](outcome o) {
    if (auto self = weak.lock(); self && !self->stopped_)
      self->finish(it, o);
  };
  kube::object_ptr cached;
  const nlohmann::json* obj = fresh;
  if (obj == nullptr) {
    auto [ns, name] = split_key(it.second);
    switch (it.first) {
      case kind::request: cached = requests_->get(ns, name); break;
      case kind::certificate: cached = certificates_->get(ns, name); break;
      case kind::issuer: cached = issuers_->get(ns, name); break;
      case kind::cluster_issuer:
        cached = cluster_issuers_->get(ns, name);
        break;
    }
    if (!cached) {
      done(outcome::done);
      return;
    }
    if (auto i = stale_rv_.find(it); i != stale_rv_.end()) {
      if (i->second == kube::object_ref{*cached}.resource_version()) {
        // Our own newer write is on its way through the watch.
        done(outcome::done);
        return;
      }
      stale_rv_.erase(i);
    }
    obj = cached.get();
  }
  try {
    switch (it.first) {
      case kind::request: reconcile_request(*obj, std::move(done)); break;
      case kind::certificate:
        reconcile_certificate(*obj, std::move(done));
        break;
      case kind::issuer: reconcile_issuer(*obj, false, std::move(done)); break;
      case kind::cluster_issuer:
        reconcile_issuer(*obj, true, std::move(done));
        break;
    }
  } catch (const std::exception& e) {
    // Malformed objects (wrong JSON types) must not take the controllers
    // down.
    logging::error(*log_, "reconcile failed",
                   {{"key", it.second}, {"err", e.what()}});
    finish(it, outcome::retry);
  }
}

void engine::finish(const item& it, outcome o) {
  if (busy_.erase(it) == 0)
    return; // already finished (a reconcile must call `done` once)
  if (o == outcome::conflict && ++failures_[it] > max_conflicts)
    o = outcome::retry;
  switch (o) {
    case outcome::done:
      failures_.erase(it);
      if (dirty_.erase(it) > 0)
        enqueue(it.first, it.second);
      return;
    case outcome::retry: {
      auto n = std::min(++failures_[it], 12);
      auto delay = std::min(initial_backoff * (1 << (n - 1)), max_backoff);
      dirty_.erase(it);
      enqueue_after(it.first, it.second, delay);
      return;
    }
    case outcome::conflict: break;
  }
  // Read the object again and reconcile that state.
  busy_.insert(it);
  auto [ns, name] = split_key(it.second);
  std::weak_ptr<engine> weak = weak_from_this();
  cli_->get(resource_of(it.first), ns, name,
            [weak, it](caf::expected<nlohmann::json> res) {
              auto self = weak.lock();
              if (!self || self->stopped_)
                return;
              if (!res) {
                auto o = kube::is(res.error(), kube::errc::not_found)
                           ? outcome::done
                           : outcome::retry;
                self->finish(it, o);
                return;
              }
              self->busy_.erase(it);
              self->dirty_.erase(it);
              self->stale_rv_.erase(it);
              self->run(it, &*res);
            });
}

void engine::forget(const item& it) {
  queued_.erase(it);
  dirty_.erase(it);
  failures_.erase(it);
  stale_rv_.erase(it);
  timers_.erase(it);
}

void engine::wrote(kind k, const std::string& key, const std::string& old_rv) {
  if (!old_rv.empty())
    stale_rv_[item{k, key}] = old_rv;
}

// -- events -------------------------------------------------------------------

void engine::on_namespaced_issuer(const kube::informer_event& ev) {
  on_issuer_event(ev, false);
}

void engine::on_cluster_issuer(const kube::informer_event& ev) {
  on_issuer_event(ev, true);
}

void engine::on_issuer_event(const kube::informer_event& ev, bool cluster) {
  if (ev.type == kube::informer_event_type::synced) {
    enqueue_all_if_synced();
    return;
  }
  kube::object_ref ref{*ev.object};
  auto k = cluster ? kind::cluster_issuer : kind::issuer;
  if (ev.type == kube::informer_event_type::deleted) {
    forget({k, ref.key()});
    issuer_memos_.erase({cluster, ref.key()});
  } else
    enqueue(k, ref.key());
  enqueue_requests_of(cluster ? "ClusterIssuer" : "Issuer", ref.namespace_(),
                      ref.name());
}

void engine::enqueue_requests_of(std::string_view issuer_kind,
                                 std::string_view namespace_,
                                 std::string_view name) {
  bool cluster = issuer_kind == "ClusterIssuer";
  for (auto& cr : requests_->list()) {
    const auto& ref_name = kube::string_at(*cr, {"spec", "issuerRef", "name"});
    if (ref_name != name)
      continue;
    kube::object_ref ref{*cr};
    auto ref_kind = kube::string_at(*cr, {"spec", "issuerRef", "kind"});
    if (ref_kind.empty())
      ref_kind = "Issuer";
    if (ref_kind != issuer_kind || (!cluster && ref.namespace_() != namespace_)
        || terminal_request(*cr))
      continue;
    enqueue(kind::request, ref.key());
  }
}

void engine::on_secret_event(const kube::informer_event& ev) {
  if (ev.type == kube::informer_event_type::synced) {
    enqueue_all_if_synced();
    return;
  }
  kube::object_ref ref{*ev.object};
  const auto& ns = ref.namespace_();
  const auto& name = ref.name();
  if (ev.type == kube::informer_event_type::deleted
      && ref.label("cert-manager.io/next-private-key") == "true")
    // A next private key deleted before we saw it: make another.
    if (auto* owners
        = kube::member_at(*ev.object, {"metadata", "ownerReferences"});
        owners != nullptr && owners->is_array())
      for (auto& owner : *owners)
        generating_.erase(kube::string_at(owner, {"uid"}));
  for (auto& iss : issuers_->list()) {
    kube::object_ref iref{*iss};
    if (iref.namespace_() == ns && ca_secret_of(*iss, false).second == name) {
      enqueue(kind::issuer, iref.key());
      enqueue_requests_of("Issuer", ns, iref.name());
    }
  }
  if (ns == cluster_resource_namespace)
    for (auto& iss : cluster_issuers_->list())
      if (ca_secret_of(*iss, true).second == name) {
        kube::object_ref iref{*iss};
        enqueue(kind::cluster_issuer, iref.key());
        enqueue_requests_of("ClusterIssuer", {}, iref.name());
      }
  for (auto& cr : requests_->list()) {
    kube::object_ref cref{*cr};
    if (cref.namespace_() == ns && !terminal_request(*cr)
        && cref.annotation("cert-manager.io/private-key-secret-name") == name)
      enqueue(kind::request, cref.key());
  }
  for (auto& crt : certificates_->list()) {
    kube::object_ref cref{*crt};
    if (cref.namespace_() == ns)
      enqueue(kind::certificate, cref.key());
  }
}

void engine::on_request_event(const kube::informer_event& ev) {
  if (ev.type == kube::informer_event_type::synced) {
    enqueue_all_if_synced();
    return;
  }
  kube::object_ref ref{*ev.object};
  if (ev.type == kube::informer_event_type::deleted) {
    forget({kind::request, ref.key()});
    finished_requests_.erase(ref.uid());
    delay_started_.erase(ref.uid());
    delay_elapsed_.erase(ref.uid());
  } else {
    enqueue(kind::request, ref.key());
  }
  if (auto owner = ref.annotation("cert-manager.io/certificate-name"))
    enqueue(kind::certificate, kube::object_key(ref.namespace_(), *owner));
}

void engine::on_certificate_event(const kube::informer_event& ev) {
  if (ev.type == kube::informer_event_type::synced) {
    enqueue_all_if_synced();
    return;
  }
  kube::object_ref ref{*ev.object};
  if (ev.type == kube::informer_event_type::deleted) {
    forget({kind::certificate, ref.key()});
    generating_.erase(ref.uid());
  } else {
    enqueue(kind::certificate, ref.key());
  }
}

void engine::enqueue_all_if_synced() {
  if (!all_synced())
    return;
  // Everything that arrived before the caches were complete was queued;
  // make sure a drain runs now.
  logging::debug(*log_, "caches synced");
  if (!drain_posted_ && !queued_.empty()) {
    drain_posted_ = true;
    std::weak_ptr<engine> weak = weak_from_this();
    cli_->post([weak] {
      if (auto self = weak.lock(); self && !self->stopped_)
        self->drain();
    });
  }
}

// -- lookups ------------------------------------------------------------------

kube::object_ptr engine::secret(std::string_view ns, std::string_view name) {
  return secrets_->get(ns, name);
}

secret_lookup engine::secrets() {
  return [this](std::string_view ns, std::string_view name) {
    return secret(ns, name);
  };
}

std::shared_ptr<const evaluated_issuer>
engine::find_issuer(std::string_view kind, std::string_view namespace_,
                    std::string_view name) {
  bool cluster = kind == "ClusterIssuer";
  auto obj = cluster ? cluster_issuers_->get({}, name)
                     : issuers_->get(namespace_, name);
  std::pair<bool, std::string> key{
    cluster, kube::object_key(cluster ? std::string_view{} : namespace_, name)};
  if (!obj) {
    issuer_memos_.erase(key);
    return nullptr;
  }
  auto [secret_ns, secret_name] = ca_secret_of(*obj, cluster);
  auto sec = secret_name.empty() ? nullptr : secret(secret_ns, secret_name);
  auto& memo = issuer_memos_[key];
  if (memo.evaluated == nullptr || memo.issuer != obj || memo.secret != sec) {
    memo.issuer = obj;
    memo.secret = sec;
    memo.evaluated = std::make_shared<const evaluated_issuer>(
      evaluate_issuer(*obj, cluster, secrets()));
  }
  return memo.evaluated;
}

// -- API helpers --------------------------------------------------------------

engine::outcome engine::outcome_of(const caf::error& err, std::string_view what,
                                   const std::string& key) {
  if (!err)
    return outcome::done;
  if (kube::is(err, kube::errc::conflict))
    return outcome::conflict;
  if (kube::is(err, kube::errc::not_found))
    return outcome::done;
  logging::warn(*log_, "API call failed, retrying",
                {{"call", std::string{what}},
                 {"key", key},
                 {"err", istio_csr::errors::describe(err)}});
  return outcome::retry;
}

void engine::write_status(kind k, const kube::resource& res, nlohmann::json obj,
                          finish_fn done) {
  kube::object_ref ref{obj};
  auto key = ref.key();
  auto old_rv = ref.resource_version();
  std::weak_ptr<engine> weak = weak_from_this();
  cli_->update_status(
    res, std::move(obj),
    [weak, k, key, old_rv, done](caf::expected<nlohmann::json> res) {
      auto self = weak.lock();
      if (!self || self->stopped_)
        return;
      if (res) {
        self->wrote(k, key, old_rv);
        done(outcome::done);
        return;
      }
      done(self->outcome_of(res.error(), "update status", key));
    });
}

// -- issuers ------------------------------------------------------------------

void engine::reconcile_issuer(const nlohmann::json& obj, bool cluster,
                              finish_fn done) {
  kube::object_ref ref{obj};
  if (ref.deleting()) {
    done(outcome::done);
    return;
  }
  auto eval = evaluate_issuer(obj, cluster, secrets());
  auto next = obj;
  auto changed
    = set_condition(next,
                    kube::condition{"Ready", eval.ready ? "True" : "False",
                                    eval.reason, eval.message},
                    std::chrono::system_clock::now(), ref.generation());
  if (!changed) {
    done(outcome::done);
    return;
  }
  logging::info(*log_,
                cluster ? "cluster issuer evaluated" : "issuer evaluated",
                {{"issuer", ref.key()},
                 {"ready", eval.ready ? "True" : "False"},
                 {"reason", eval.reason},
                 {"message", eval.message}});
  write_status(cluster ? kind::cluster_issuer : kind::issuer,
               cluster ? kube::resources::clusterissuers
                       : kube::resources::issuers,
               std::move(next), std::move(done));
}

} // namespace istio_csr::devcluster::issuer
