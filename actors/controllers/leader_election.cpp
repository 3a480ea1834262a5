#include "actors/controllers/leader_election.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <optional>
#include <random>

#include "caf/actor_clock.hpp"
#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/sec.hpp"
#include "caf/send.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/system_messages.hpp"

#include "actors/controllers/messages.hpp"
#include "actors/supervisor/supervisor.hpp"
#include "errors/describe.hpp"
#include "introspection/protocol.hpp"
#include "kube/api/errc.hpp"
#include "kube/api/lease.hpp"
#include "kube/api/time.hpp"
#include "kube/client/cancel_scope.hpp"
#include "kube/client/client_actor.hpp"
#include "kube/client/messages.hpp"
#include "logging/logging.hpp"
#include "metrics/leader_election.hpp"

namespace istio_csr::actors::controllers {

namespace {

// Durations are measured on the actor clock (steady_clock in production,
// virtual time under CAF's test coordinator), which also times every
// delayed message and request timeout here.
using steady = caf::actor_clock::clock_type;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

struct leader_state {
  ~leader_state() {
    if (leading)
      metrics::leader_election().set(0);
  }

  leader_election_options opts;
  kube::client_actor kube;
  std::vector<child_spec> children;
  /// The last Lease read or written (with its resourceVersion); empty when
  /// the next attempt must read it first.
  std::optional<nlohmann::json> observed;
  /// The spec of the last Lease seen and when (our clock) it last changed.
  nlohmann::json observed_spec;
  steady::time_point observed_at;
  bool leading = false;
  /// Identifies the deadline timer of the last successful renewal.
  uint64_t renew_token = 0;
  bool in_flight = false;
  bool stopping = false;
  caf::error stop_reason;
  caf::actor leader_sup;
  /// Leader supervisors of earlier terms: their exit messages may still be
  /// queued and are no shutdown order.
  std::vector<caf::actor_addr> former_sups;
  leader_status status;
  std::minstd_rand rng{std::random_device{}()};
  std::shared_ptr<spdlog::logger> log;
  /// Reads, renewals, events: none is sent after this incarnation is gone
  /// (a late renewal would extend a Lease nobody holds). The release is
  /// sent unbound.
  kube::cancel_scope kube_calls;

  static inline const char* name = "leader-election";
};

using leader_actor = caf::stateful_actor<leader_state>;

std::string lease_key(const leader_state& st) {
  return st.opts.namespace_ + "/" + st.opts.name;
}

/// Every request ends within the renew deadline: a hanging call must not
/// hold the next attempt back longer than leadership may last without one.
milliseconds request_timeout(const leader_state& st) {
  return st.opts.renew_deadline;
}

void attempt(leader_actor* self);
void lose(leader_actor* self, const std::string& why);

void schedule_next(leader_actor* self) {
  auto& st = self->state;
  st.in_flight = false;
  if (st.stopping)
    return;
  auto delay = st.opts.retry_period;
  if (!st.leading) {
    // client-go: wait.JitterUntil(retryPeriod, JitterFactor 1.2).
    std::uniform_real_distribution<double> jitter{0.0, 1.2};
    delay += milliseconds{
      static_cast<int64_t>(jitter(st.rng) * st.opts.retry_period.count())};
  }
  self->delayed_send(self, delay, leader_tick_atom::value);
}

void observe(leader_state& st, const nlohmann::json& lease,
             steady::time_point when) {
  auto spec = lease.value("spec", nlohmann::json::object());
  if (spec != st.observed_spec) {
    st.observed_spec = spec;
    st.observed_at = when;
  }
  st.observed = lease;
  auto parsed = kube::lease_view{lease}.spec();
  st.status.holder = parsed.holder_identity;
  st.status.transitions = parsed.lease_transitions;
}

/// client-go's `LeaseLock.RecordEvent`: a Normal Event, reason
/// `LeaderElection`, message "<identity> <what>", about the Lease, from the
/// component named by our identity (controller-runtime's recorder for the
/// election). Best effort: a failure is logged, never retried.
void record_event(leader_actor* self, const std::string& what) {
  auto& st = self->state;
  if (st.opts.event_namespace.empty())
    return;
  auto now = std::chrono::system_clock::now();
  auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(
                 now.time_since_epoch())
                 .count();
  char suffix[32];
  std::snprintf(suffix, sizeof(suffix), ".%llx",
                static_cast<unsigned long long>(nanos));
  nlohmann::json involved{{"kind", "Lease"},
                          {"apiVersion", "coordination.k8s.io/v1"},
                          {"namespace", st.opts.namespace_},
                          {"name", st.opts.name}};
  if (st.observed) {
    const auto& meta = (*st.observed)["metadata"];
    if (meta.contains("uid"))
      involved["uid"] = meta["uid"];
    if (meta.contains("resourceVersion"))
      involved["resourceVersion"] = meta["resourceVersion"];
  }
  auto stamp = kube::format_time(now);
  nlohmann::json event{
    {"apiVersion", "v1"},
    {"kind", "Event"},
    {"metadata",
     {{"name", st.opts.name + suffix}, {"namespace", st.opts.event_namespace}}},
    {"involvedObject", std::move(involved)},
    {"reason", "LeaderElection"},
    {"message", st.opts.identity + " " + what},
    {"source", {{"component", st.opts.identity}}},
    {"firstTimestamp", stamp},
    {"lastTimestamp", stamp},
    {"count", 1},
    {"type", "Normal"},
    {"eventTime", nullptr},
    {"reportingComponent", ""},
    {"reportingInstance", ""},
  };
  auto log = st.log;
  self
    ->request(st.kube, request_timeout(st),
              st.kube_calls.bind(kube::request::create(kube::resources::events,
                                                       st.opts.event_namespace,
                                                       std::move(event))))
    .then([](kube::response&) {},
          [log](caf::error& err) {
            logging::warn(*log, "failed to record the leader election event",
                          {{"error", errors::describe(err)}});
          });
}

void become_leader(leader_actor* self) {
  auto& st = self->state;
  supervisor_options opts;
  opts.name = "leader";
  opts.max_restarts = st.opts.max_restarts;
  opts.window = st.opts.window;
  opts.on_give_up = escalate;
  auto sup = spawn_supervisor(self->system(), std::move(opts), st.children);
  if (!sup) {
    logging::error(*st.log, "cannot start the leader-only actors",
                   {{"err", errors::describe(sup.error())}});
    self->quit(sup.error());
    return;
  }
  st.leader_sup = sup->supervisor;
  self->link_to(st.leader_sup);
  // Also monitored: CAF removes the link when we send it an exit message
  // (shutdown), and we still need to learn when it is done.
  self->monitor(st.leader_sup);
  st.leading = true;
  ++st.status.acquisitions;
  metrics::leader_election().set(1);
  logging::info(*st.log, "successfully acquired lease",
                {{"lease", lease_key(st)}, {"identity", st.opts.identity}});
  record_event(self, "became leader");
}

void lose(leader_actor* self, const std::string& why) {
  auto& st = self->state;
  if (!st.leading)
    return;
  st.leading = false;
  metrics::leader_election().set(0);
  ++st.status.losses;
  ++st.renew_token;
  st.observed.reset();
  // At once: kill, not an orderly stop, so that no leader-only actor keeps
  // writing while another replica may take over.
  if (st.leader_sup) {
    self->unlink_from(st.leader_sup);
    // Unlinked, so only an exit already queued can come; a few suffice.
    if (st.former_sups.size() >= 4)
      st.former_sups.erase(st.former_sups.begin());
    st.former_sups.push_back(st.leader_sup.address());
    self->send_exit(st.leader_sup, caf::exit_reason::kill);
    st.leader_sup = caf::actor{};
  }
  logging::error(*st.log, "leader election lost",
                 {{"lease", lease_key(st)},
                  {"identity", st.opts.identity},
                  {"reason", why}});
}

void succeeded(leader_actor* self, const nlohmann::json& lease,
               steady::time_point started) {
  auto& st = self->state;
  observe(st, lease, started);
  st.observed_at = started;
  // Leadership lasts at most renew_deadline past the start of the last
  // successful attempt.
  auto token = ++st.renew_token;
  auto left = duration_cast<milliseconds>(started + st.opts.renew_deadline
                                          - self->clock().now());
  self->delayed_send(self, std::max(left, milliseconds{0}),
                     leader_deadline_atom::value, token);
  // A renewal that comes back too late to last one retry period does not
  // start a term (it would be killed at once).
  if (!st.leading && !st.stopping && left >= st.opts.retry_period)
    become_leader(self);
  schedule_next(self);
}

void failed(leader_actor* self, const char* step, const caf::error& err) {
  auto& st = self->state;
  st.observed.reset();
  if (kube::is(err, kube::errc::conflict)
      || kube::is(err, kube::errc::already_exists))
    logging::debug(*st.log, "lease changed meanwhile",
                   {{"lease", lease_key(st)}, {"step", step}});
  else if (st.leading)
    logging::warn(*st.log, "failed to renew lease",
                  {{"lease", lease_key(st)},
                   {"step", step},
                   {"err", errors::describe(err)}});
  else
    // Not only at debug: a replica without permission on Leases (401, 403)
    // would otherwise never lead, silently.
    logging::warn(*st.log, "failed to acquire lease",
                  {{"lease", lease_key(st)},
                   {"step", step},
                   {"err", errors::describe(err)}});
  schedule_next(self);
}

/// Writes our record over `lease` (read or cached) with its
/// resourceVersion.
void write(leader_actor* self, nlohmann::json lease,
           steady::time_point started) {
  auto& st = self->state;
  auto old = kube::lease_view{lease}.spec();
  auto now = std::chrono::system_clock::now();
  kube::lease_spec next;
  next.holder_identity = st.opts.identity;
  next.lease_duration = st.opts.lease_duration;
  next.renew_time = now;
  if (old.holder_identity == st.opts.identity) {
    next.acquire_time = old.acquire_time ? *old.acquire_time : now;
    next.lease_transitions = old.lease_transitions;
  } else {
    next.acquire_time = now;
    next.lease_transitions = old.lease_transitions + 1;
  }
  lease["spec"] = kube::lease_spec_json(next);
  self
    ->request(st.kube, request_timeout(st),
              st.kube_calls.bind(kube::request::update(kube::resources::leases,
                                                       std::move(lease))))
    .then(
      [self, started](kube::response& result) {
        succeeded(self, result.body(), started);
      },
      [self](caf::error& err) { failed(self, "update", err); });
}

void create(leader_actor* self, steady::time_point started) {
  auto& st = self->state;
  auto now = std::chrono::system_clock::now();
  kube::lease_spec spec;
  spec.holder_identity = st.opts.identity;
  spec.lease_duration = st.opts.lease_duration;
  spec.acquire_time = now;
  spec.renew_time = now;
  spec.lease_transitions = 0;
  self
    ->request(st.kube, request_timeout(st),
              st.kube_calls.bind(kube::request::create(
                kube::resources::leases, st.opts.namespace_,
                kube::make_lease(st.opts.namespace_, st.opts.name, spec))))
    .then(
      [self, started](kube::response& result) {
        succeeded(self, result.body(), started);
      },
      [self](caf::error& err) { failed(self, "create", err); });
}

void on_read(leader_actor* self, const nlohmann::json& lease,
             steady::time_point started) {
  auto& st = self->state;
  auto now = self->clock().now();
  observe(st, lease, now);
  auto spec = kube::lease_view{lease}.spec();
  if (!spec.holder_identity.empty() && spec.holder_identity != st.opts.identity
      && st.observed_at + spec.lease_duration > now) {
    // Someone else holds a valid lease.
    if (st.leading)
      lose(self, "the lease is held by " + spec.holder_identity);
    schedule_next(self);
    return;
  }
  write(self, lease, started);
}

void attempt(leader_actor* self) {
  auto& st = self->state;
  if (st.stopping || st.in_flight)
    return;
  st.in_flight = true;
  auto started = self->clock().now();
  // The leader renews from its cached record (client-go does the same):
  // one write, no read; a conflict makes the next attempt read.
  if (st.leading && st.observed) {
    write(self, *st.observed, started);
    return;
  }
  self
    ->request(st.kube, request_timeout(st),
              st.kube_calls.bind(kube::request::get(
                kube::resources::leases, st.opts.namespace_, st.opts.name)))
    .then([self, started](
            kube::response& lease) { on_read(self, lease.body(), started); },
          [self, started](caf::error& err) {
            if (kube::is(err, kube::errc::not_found))
              create(self, started);
            else
              failed(self, "get", err);
          });
}

void read_and_release(leader_actor* self);

/// Writes the released record over `lease` (holder "", 1 s, as client-go)
/// and terminates either way. A renewal still in flight when the shutdown
/// began may have moved the resourceVersion on: that conflict reads the
/// Lease once and releases it if it is still ours.
void release_from(leader_actor* self, nlohmann::json lease,
                  bool reread = true) {
  auto& st = self->state;
  auto now = std::chrono::system_clock::now();
  kube::lease_spec spec;
  spec.lease_duration = std::chrono::seconds{1};
  spec.acquire_time = now;
  spec.renew_time = now;
  spec.lease_transitions = kube::lease_view{lease}.spec().lease_transitions;
  lease["spec"] = kube::lease_spec_json(spec);
  // client-go writes an empty holder (not an absent one).
  lease["spec"]["holderIdentity"] = "";
  self
    ->request(st.kube, request_timeout(st),
              kube::request::update(kube::resources::leases, std::move(lease)))
    .then(
      [self](kube::response&) {
        auto& st = self->state;
        logging::info(
          *st.log, "released lease",
          {{"lease", lease_key(st)}, {"identity", st.opts.identity}});
        self->quit(st.stop_reason);
      },
      [self, reread](caf::error& err) {
        auto& st = self->state;
        if (reread && kube::is(err, kube::errc::conflict)) {
          read_and_release(self);
          return;
        }
        logging::warn(
          *st.log, "failed to release lease",
          {{"lease", lease_key(st)}, {"err", errors::describe(err)}});
        self->quit(st.stop_reason);
      });
}

/// Releases the Lease (when we lead) and terminates.
void release_and_quit(leader_actor* self) {
  auto& st = self->state;
  if (!st.leading) {
    self->quit(st.stop_reason);
    return;
  }
  st.leading = false;
  metrics::leader_election().set(0);
  if (st.observed) {
    release_from(self, *st.observed);
    return;
  }
  // The cached record went stale (a failed renewal): read it first.
  read_and_release(self);
}

/// Reads the Lease and releases it only if it is still ours.
void read_and_release(leader_actor* self) {
  auto& st = self->state;
  self
    ->request(st.kube, request_timeout(st),
              kube::request::get(kube::resources::leases, st.opts.namespace_,
                                 st.opts.name))
    .then(
      [self](kube::response& lease) {
        auto& st = self->state;
        if (kube::lease_view{lease.body()}.spec().holder_identity
            == st.opts.identity)
          release_from(self, lease.body(), false);
        else
          self->quit(st.stop_reason);
      },
      [self](caf::error& err) {
        auto& st = self->state;
        logging::warn(
          *st.log, "failed to release lease",
          {{"lease", lease_key(st)}, {"err", errors::describe(err)}});
        self->quit(st.stop_reason);
      });
}

/// The leader supervisor of the current term terminated (exit or down
/// message, whichever comes first).
void leader_sup_gone(leader_actor* self, const caf::error& reason) {
  auto& st = self->state;
  st.leader_sup = caf::actor{};
  if (st.stopping) {
    // The leader-only actors are gone: now the Lease can go.
    release_and_quit(self);
    return;
  }
  // The leader-only tree gave up: fail, so that our supervisor restarts us
  // (and counts it).
  logging::error(*st.log, "the leader-only actors failed",
                 {{"reason", errors::describe(reason)}});
  self->quit(reason);
}

caf::behavior leader_impl(leader_actor* self, leader_election_options opts,
                          kube::client_actor kube,
                          std::vector<child_spec> children) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.kube = std::move(kube);
  st.children = std::move(children);
  st.log = logging::get("leader-election");
  st.status.identity = st.opts.identity;
  metrics::leader_election().set(0);
  if (st.opts.client) {
    st.kube = kube::spawn_client_actor(self->system(), st.opts.client);
    self->link_to(st.kube);
  }
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    if (st.leader_sup && msg.source == st.leader_sup.address())
      leader_sup_gone(self, msg.reason);
  });
  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto& st = self->state;
    if (st.opts.client && st.kube && msg.source == st.kube.address()) {
      // Our own façade failed: so do we (our supervisor restarts us).
      logging::error(*st.log, "the leader election client failed",
                     {{"reason", errors::describe(msg.reason)}});
      if (st.leader_sup)
        self->send_exit(st.leader_sup, caf::exit_reason::kill);
      self->quit(msg.reason);
      return;
    }
    if (st.leader_sup && msg.source == st.leader_sup.address()) {
      leader_sup_gone(self, msg.reason);
      return;
    }
    if (auto i
        = std::find(st.former_sups.begin(), st.former_sups.end(), msg.source);
        i != st.former_sups.end()) {
      st.former_sups.erase(i);
      return;
    }
    if (msg.reason == caf::exit_reason::normal || st.stopping)
      return;
    st.stopping = true;
    st.stop_reason = msg.reason;
    ++st.renew_token;
    logging::info(
      *st.log, "stopping leader election",
      {{"lease", lease_key(st)}, {"leading", st.leading ? "true" : "false"}});
    if (st.leader_sup)
      self->send_exit(st.leader_sup, caf::exit_reason::user_shutdown);
    else
      release_and_quit(self);
  });
  introspection::enable(self, [self] {
    auto& st = self->state;
    introspection::report r;
    r.state = st.leading ? "leading" : "not leading";
    r.owned_supervisor = st.leader_sup;
    r.owned_name = "leader";
    r.owned_starts = st.status.acquisitions;
    return r;
  });
  logging::info(*st.log, "attempting to acquire leader lease",
                {{"lease", lease_key(st)}, {"identity", st.opts.identity}});
  self->send(self, leader_tick_atom::value);
  return {
    [self](leader_tick_atom) { attempt(self); },
    [self](leader_deadline_atom, uint64_t token) {
      auto& st = self->state;
      if (st.leading && token == st.renew_token)
        lose(self, "failed to renew the lease within the renew deadline ("
                     + std::to_string(st.opts.renew_deadline.count()) + "ms)");
    },
    [self](leader_status_atom) {
      auto& st = self->state;
      auto result = st.status;
      result.leading = st.leading;
      result.leader_supervisor = st.leader_sup;
      return result;
    },
  };
}

} // namespace

caf::error validate(const leader_election_options& opts) {
  auto bad = [](std::string what) {
    return caf::make_error(caf::sec::invalid_argument,
                           "leader election: " + std::move(what));
  };
  if (opts.identity.empty())
    return bad("the identity is empty");
  if (opts.namespace_.empty() || opts.name.empty())
    return bad("the lease namespace and name must not be empty");
  if (opts.retry_period.count() <= 0)
    return bad("the retry period must be positive");
  if (opts.renew_deadline.count() * 10 <= opts.retry_period.count() * 12)
    return bad("the renew deadline must be greater than 1.2 x the retry "
               "period");
  if (opts.lease_duration <= opts.renew_deadline)
    return bad("the lease duration must be greater than the renew deadline");
  return {};
}

std::string make_leader_identity() {
  std::array<char, 256> host{};
  if (::gethostname(host.data(), host.size() - 1) != 0)
    host[0] = '\0';
  std::random_device rd;
  std::array<uint8_t, 16> b;
  for (auto& x : b)
    x = static_cast<uint8_t>(rd());
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40); // version 4
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80); // RFC 4122 variant
  char uuid[37];
  std::snprintf(uuid, sizeof(uuid),
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
                "%02x%02x%02x%02x%02x%02x",
                b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9],
                b[10], b[11], b[12], b[13], b[14], b[15]);
  return std::string{host.data()} + "_" + uuid;
}

caf::actor spawn_leader_election(caf::actor_system& sys,
                                 leader_election_options opts,
                                 kube::client_actor kube,
                                 std::vector<child_spec> leader_children) {
  return sys.spawn(leader_impl, std::move(opts), std::move(kube),
                   std::move(leader_children));
}

} // namespace istio_csr::actors::controllers
