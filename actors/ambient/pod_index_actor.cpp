#include "actors/ambient/pod_index_actor.hpp"

#include <algorithm>
#include <deque>
#include <optional>

#include "caf/actor_clock.hpp"
#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/response_promise.hpp"
#include "caf/send.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/ambient/errors.hpp"
#include "actors/ambient/messages.hpp"
#include "actors/ambient/node_authorizer.hpp"
#include "actors/ambient/pod_index.hpp"
#include "actors/ambient/pod_record.hpp"
#include "actors/reconcile/actor_informer.hpp"
#include "introspection/protocol.hpp"
#include "kube/client/informer.hpp"
#include "kube/client/messages.hpp"
#include "logging/logging.hpp"
#include "metrics/istio_csr.hpp"

namespace istio_csr::actors::ambient {

namespace {

// The actor clock: the deterministic test scheduler advances it.
using clock = caf::actor_clock::clock_type;

/// A request that arrived before the first sync.
struct waiting_request {
  impersonation_request req;
  caf::typed_response_promise<void> rp;
  clock::time_point since;
};

struct pod_index_state {
  ~pod_index_state() {
    if (status)
      status->synced = false;
    metrics::ours().pod_index_pods.set(0);
  }

  std::optional<node_authorizer> authorizer;
  std::chrono::milliseconds sync_wait{0};
  std::shared_ptr<pod_index_status> status;
  reconcile::actor_informer inf;
  std::shared_ptr<spdlog::logger> log;
  pod_index index;
  bool synced = false;
  std::deque<waiting_request> waiting;
  bool expiry_scheduled = false;
  pod_index_stats stats;

  static inline const char* name = "pod-index";
};

/// The pod index with its internal message: expiry of waiting requests.
using pod_index_impl_actor
  = pod_index_actor::extend<caf::reacts_to<pod_expire_atom>>;

using pod_index_pointer
  = pod_index_impl_actor::stateful_pointer<pod_index_state>;

/// Runs the checks and answers `rp`.
void answer(pod_index_pointer self, const impersonation_request& req,
            caf::typed_response_promise<void>& rp) {
  auto& st = self->state;
  auto denial = st.authorizer->check(st.index, req.caller, req.identity);
  if (!denial) {
    ++st.stats.allowed;
    logging::debug(
      *st.log, "node caller impersonated",
      {{"caller", to_string(req.caller)}, {"identity", req.identity}});
    static_cast<caf::response_promise&>(rp).deliver(caf::unit);
    return;
  }
  ++st.stats.denied;
  rp.deliver(make_error(ambient_errc::denied, std::move(*denial)));
}

void schedule_expiry(pod_index_pointer self) {
  auto& st = self->state;
  if (st.expiry_scheduled || st.waiting.empty())
    return;
  st.expiry_scheduled = true;
  auto due = st.waiting.front().since + st.sync_wait;
  auto delay = std::max(due - self->clock().now(), clock::duration::zero());
  self->delayed_send(self, delay, pod_expire_atom::value);
}

void on_event(pod_index_pointer self, const kube::informer_event& ev) {
  auto& st = self->state;
  ++st.stats.events;
  switch (ev.type) {
    case kube::informer_event_type::added:
    case kube::informer_event_type::updated:
      if (ev.object && !st.index.upsert(ev.object))
        logging::warn(*st.log, "ignoring an object that is no pod record");
      break;
    case kube::informer_event_type::deleted:
      if (ev.object)
        st.index.erase(*ev.object);
      break;
    case kube::informer_event_type::synced: {
      if (st.synced)
        break;
      st.synced = true;
      if (st.status)
        st.status->synced = true;
      logging::info(*st.log, "pod cache synced",
                    {{"pods", std::to_string(st.index.size())},
                     {"waiting", std::to_string(st.waiting.size())}});
      auto waiting = std::move(st.waiting);
      st.waiting.clear();
      for (auto& w : waiting)
        answer(self, w.req, w.rp);
      break;
    }
  }
  metrics::ours().pod_index_pods.set(static_cast<double>(st.index.size()));
}

pod_index_impl_actor::behavior_type
pod_index_impl(pod_index_pointer self, pod_index_options opts,
               std::shared_ptr<kube::client> cli,
               std::shared_ptr<pod_index_status> status) {
  auto& st = self->state;
  auto min_watch_timeout = opts.min_watch_timeout;
  auto page_size = opts.page_size;
  st.authorizer.emplace(std::move(opts.trusted), std::move(opts.trust_domain));
  st.sync_wait = opts.sync_wait;
  st.status = std::move(status);
  if (st.status)
    st.status->synced = false;
  st.log = logging::get("node-authorizer");
  if (cli) {
    kube::informer_options io;
    io.res = kube::resources::pods;
    // As istiod: failed pods never count, so they need not be cached.
    io.field_selector = "status.phase!=Failed";
    io.transform
      = [](nlohmann::json pod) { return make_pod_record(std::move(pod)); };
    io.page_size = page_size;
    io.min_watch_timeout = min_watch_timeout;
    io.name = "pods";
    st.inf.start(self, std::move(cli), std::move(io), pod_event_atom::value);
  }
  logging::info(
    *st.log, "indexing pods for node authorization",
    {{"trusted-node-accounts", st.authorizer->trusted().to_string()},
     {"trust-domain", st.authorizer->trust_domain()}});
  introspection::enable(self, [self] {
    auto& st = self->state;
    return introspection::report{std::string{st.synced ? "synced" : "listing"}
                                 + ", " + std::to_string(st.index.size())
                                 + " pods, " + std::to_string(st.waiting.size())
                                 + " waiting"};
  });
  return {
    [self](authorize_atom, impersonation_request& req) -> caf::result<void> {
      auto& st = self->state;
      auto rp = self->make_response_promise<void>();
      if (st.synced) {
        answer(self, req, rp);
        return rp;
      }
      st.waiting.push_back({std::move(req), rp, self->clock().now()});
      schedule_expiry(self);
      return rp;
    },
    [self](pod_event_atom, const kube::informer_event& ev) {
      if (self->state.inf.accept(ev))
        on_event(self, ev);
    },
    [self](pod_expire_atom) {
      auto& st = self->state;
      st.expiry_scheduled = false;
      auto now = self->clock().now();
      while (!st.waiting.empty()
             && now - st.waiting.front().since >= st.sync_wait) {
        ++st.stats.expired;
        st.waiting.front().rp.deliver(
          make_error(ambient_errc::not_synced, "pod cache not synced"));
        st.waiting.pop_front();
      }
      schedule_expiry(self);
    },
    [self](pod_stats_atom) -> pod_index_stats {
      auto& st = self->state;
      auto result = st.stats;
      result.synced = st.synced;
      result.pods = st.index.size();
      result.pairs = st.index.pairs();
      result.names = st.index.names();
      result.waiting = st.waiting.size();
      return result;
    },
  };
}

} // namespace

pod_index_actor spawn_pod_index(caf::actor_system& sys, pod_index_options opts,
                                std::shared_ptr<kube::client> client,
                                std::shared_ptr<pod_index_status> status) {
  return sys.spawn(pod_index_impl, std::move(opts), std::move(client),
                   std::move(status));
}

} // namespace istio_csr::actors::ambient
