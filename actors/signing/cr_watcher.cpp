#include "actors/signing/cr_watcher.hpp"

#include <algorithm>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/response_promise.hpp"
#include "caf/send.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/system_messages.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/reconcile/actor_informer.hpp"
#include "actors/signing/errors.hpp"
#include "actors/signing/messages.hpp"
#include "errors/describe.hpp"
#include "introspection/protocol.hpp"
#include "kube/api/errc.hpp"
#include "kube/api/object.hpp"
#include "kube/api/time.hpp"
#include "kube/client/client.hpp"
#include "kube/client/informer.hpp"
#include "logging/logging.hpp"

namespace istio_csr::actors::signing {

std::chrono::milliseconds orphan_age_for(std::chrono::nanoseconds timeout) {
  using namespace std::chrono;
  if (timeout <= nanoseconds::zero())
    return hours{1};
  return duration_cast<milliseconds>(timeout * 3 / 2);
}

std::chrono::milliseconds sweep_interval_for(std::chrono::nanoseconds timeout) {
  using namespace std::chrono;
  if (timeout <= nanoseconds::zero())
    return minutes{2};
  return std::clamp<milliseconds>(duration_cast<milliseconds>(timeout / 4),
                                  seconds{1}, minutes{2});
}

namespace {

struct pending_wait {
  caf::actor waiter;
  caf::typed_response_promise<finished_request> rp;
};

struct watcher_state {
  watcher_options opts;
  std::shared_ptr<kube::client> cli;
  reconcile::actor_informer inf;
  std::shared_ptr<spdlog::logger> log;
  /// By object name.
  std::unordered_map<std::string, pending_wait> waits;
  /// The names each waiter waits on.
  std::unordered_map<caf::actor_addr, std::set<std::string>> by_waiter;
  watcher_stats stats;
  bool sweep_scheduled = false;
  /// Objects we sent a delete for and whose deletion the informer has not
  /// seen yet: no sweep sends another one (on an overloaded API server,
  /// repeated deletes of the same orphans every sweep fed the overload).
  /// A failed delete leaves the set, so the next sweep tries again.
  std::unordered_set<std::string> deleting;

  static inline const char* name = "cr-watcher";
};

/// `(cr_deleted_atom, name, ok)`: the cr-watcher's own delete of `name`
/// answered (internal).
using cr_deleted_atom = caf::atom_constant<caf::atom("crw_deld")>;

/// The cr-watcher with its internal messages: informer events and the
/// answers of its deletes.
using watcher_impl_actor = cr_watcher_actor::extend<
  caf::reacts_to<cr_event_atom, kube::informer_event>,
  caf::reacts_to<cr_deleted_atom, std::string, bool>>;

using watcher_actor = watcher_impl_actor::stateful_pointer<watcher_state>;

/// Drops what the watcher never needs, to keep the cache small.
nlohmann::json strip(nlohmann::json obj) {
  if (auto m = obj.find("metadata"); m != obj.end() && m->is_object())
    m->erase("managedFields");
  if (auto s = obj.find("spec"); s != obj.end() && s->is_object())
    s->erase("request");
  return obj;
}

/// Deletes `name` in the background; failures are only logged.
void delete_object(watcher_actor self, const std::string& name,
                   const char* why) {
  auto& st = self->state;
  if (st.opts.cr.preserve || !st.deleting.insert(name).second)
    return;
  // The answer comes on the client's thread: back to the actor as a
  // message (dropped if the actor is gone).
  st.cli->execute(
    delete_cr(st.opts.cr.namespace_, name),
    [log = st.log, name, ns = st.opts.cr.namespace_, why,
     addr = self->address()](caf::expected<nlohmann::json> res) {
      bool gone = res || kube::is(res.error(), kube::errc::not_found);
      if (auto hdl = caf::actor_cast<watcher_impl_actor>(addr))
        caf::anon_send(hdl, cr_deleted_atom::value, name, gone);
      if (res) {
        logging::debug(*log, "deleted CertificateRequest",
                       {{"namespace", ns}, {"name", name}, {"reason", why}});
      } else if (!kube::is(res.error(), kube::errc::not_found)) {
        logging::warn(*log, "failed to delete CertificateRequest",
                      {{"namespace", ns},
                       {"name", name},
                       {"reason", why},
                       {"err", errors::describe(res.error())}});
      }
    });
}

/// Forgets the wait for `name` (if any) and returns it.
std::optional<pending_wait> take_wait(watcher_actor self,
                                      const std::string& name) {
  auto& st = self->state;
  auto i = st.waits.find(name);
  if (i == st.waits.end())
    return std::nullopt;
  auto result = std::move(i->second);
  st.waits.erase(i);
  auto j = st.by_waiter.find(result.waiter.address());
  if (j != st.by_waiter.end()) {
    j->second.erase(name);
    if (j->second.empty()) {
      self->demonitor(result.waiter);
      st.by_waiter.erase(j);
    }
  }
  st.stats.waits = st.waits.size();
  return result;
}

void on_event(watcher_actor self, const kube::informer_event& ev) {
  auto& st = self->state;
  if (ev.type == kube::informer_event_type::synced) {
    st.stats.synced = true;
    if (!st.sweep_scheduled) {
      st.sweep_scheduled = true;
      self->send(self, cr_sweep_atom::value);
    }
    return;
  }
  if (!ev.object)
    return;
  const auto& name = kube::object_ref{*ev.object}.name();
  if (ev.type == kube::informer_event_type::deleted)
    st.deleting.erase(name);
  if (st.waits.count(name) == 0)
    return;
  if (ev.type == kube::informer_event_type::deleted) {
    if (auto w = take_wait(self, name)) {
      ++st.stats.answered;
      w->rp.deliver(make_error(signing_errc::cr_deleted,
                               "created CertificateRequest has been "
                               "unexpectedly deleted"));
    }
    return;
  }
  if (!is_final(*ev.object))
    return;
  if (auto w = take_wait(self, name)) {
    ++st.stats.answered;
    w->rp.deliver(finished_from(*ev.object));
  }
}

void sweep(watcher_actor self) {
  auto& st = self->state;
  if (!st.inf.synced() || st.opts.cr.preserve)
    return;
  ++st.stats.sweeps;
  auto now = std::chrono::system_clock::now();
  for (auto& obj : st.inf->list()) {
    kube::object_ref ref{*obj};
    if (st.waits.count(ref.name()) > 0 || ref.deleting()
        || st.deleting.count(ref.name()) > 0)
      continue;
    auto created = kube::parse_time(
      kube::string_at(*obj, {"metadata", "creationTimestamp"}));
    if (!created || now - *created <= st.opts.orphan_age)
      continue;
    ++st.stats.swept;
    logging::info(*st.log, "deleting orphaned CertificateRequest",
                  {{"namespace", ref.namespace_()},
                   {"name", ref.name()},
                   {"created", kube::format_time(*created)}});
    delete_object(self, ref.name(), "orphaned");
  }
}

watcher_impl_actor::behavior_type
watcher_impl(watcher_actor self, watcher_options opts,
             std::shared_ptr<kube::client> cli) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.cli = std::move(cli);
  st.log = logging::get("cr-watcher");
  kube::informer_options io;
  io.res = kube::resources::certificaterequests;
  io.namespace_ = st.opts.cr.namespace_;
  io.label_selector = managed_by_selector();
  io.transform = strip;
  io.min_watch_timeout = st.opts.min_watch_timeout;
  io.name = "certificaterequests";
  st.inf.start(self, st.cli, std::move(io), cr_event_atom::value);
  introspection::enable(self, [self] {
    auto& st = self->state;
    return introspection::report{
      std::string{st.inf.synced() ? "synced" : "listing"} + ", "
      + std::to_string(st.waits.size()) + " waits"};
  });
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    auto i = st.by_waiter.find(dm.source);
    if (i == st.by_waiter.end())
      return;
    auto names = std::move(i->second);
    st.by_waiter.erase(i);
    for (auto& name : names) {
      auto j = st.waits.find(name);
      if (j == st.waits.end())
        continue;
      auto rp = std::move(j->second.rp);
      st.waits.erase(j);
      ++st.stats.reaped;
      logging::info(*st.log,
                    "waiter terminated, deleting its CertificateRequest",
                    {{"namespace", st.opts.cr.namespace_}, {"name", name}});
      delete_object(self, name, "waiter terminated");
      rp.deliver(make_error(signing_errc::waiter_down));
    }
    st.stats.waits = st.waits.size();
  });
  logging::debug(*st.log, "watching CertificateRequests",
                 {{"namespace", st.opts.cr.namespace_},
                  {"selector", managed_by_selector()}});
  return {
    [self](cr_wait_atom, const std::string& name,
           const caf::actor& waiter) -> caf::result<finished_request> {
      auto& st = self->state;
      // Events that arrived before this registration are in the cache.
      if (auto obj = st.inf->get(st.opts.cr.namespace_, name);
          obj && is_final(*obj)) {
        ++st.stats.answered;
        return finished_from(*obj);
      }
      if (auto old = take_wait(self, name))
        old->rp.deliver(
          make_error(signing_errc::wait_cancelled, "replaced by a new wait"));
      auto rp = self->make_response_promise<finished_request>();
      if (waiter) {
        auto& names = st.by_waiter[waiter.address()];
        if (names.empty())
          self->monitor(waiter);
        names.insert(name);
      }
      st.waits.emplace(name, pending_wait{waiter, rp});
      st.stats.waits = st.waits.size();
      return rp;
    },
    [self](cr_unwait_atom, const std::string& name) {
      if (auto w = take_wait(self, name))
        w->rp.deliver(make_error(signing_errc::wait_cancelled));
    },
    [self](cr_event_atom, const kube::informer_event& ev) {
      if (self->state.inf.accept(ev))
        on_event(self, ev);
    },
    [self](cr_deleted_atom, const std::string& name, bool gone) {
      // Gone: stays in `deleting` until the informer reports it (its
      // cache may still hold it). Failed: the next sweep tries again.
      if (!gone)
        self->state.deleting.erase(name);
    },
    [self](cr_sweep_atom) {
      sweep(self);
      if (self->current_sender() == self->ctrl())
        self->delayed_send(self, self->state.opts.sweep_interval,
                           cr_sweep_atom::value);
    },
    [self](stats_atom) -> watcher_stats {
      auto result = self->state.stats;
      result.cached = self->state.inf->size();
      result.synced = self->state.inf.synced();
      auto inf = self->state.inf->get_stats();
      result.watches = inf.watches;
      result.relists_after_gone = inf.relists_after_gone;
      return result;
    },
  };
}

} // namespace

cr_watcher_actor spawn_cr_watcher(caf::actor_system& sys, watcher_options opts,
                                  std::shared_ptr<kube::client> client) {
  return sys.spawn(watcher_impl, std::move(opts), std::move(client));
}

} // namespace istio_csr::actors::signing
