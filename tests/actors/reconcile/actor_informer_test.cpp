// The informer-in-an-actor helper on CAF's deterministic scheduler:
// notifications arrive in the mailbox in order, `synced` follows the
// mailbox, nothing is accepted after `stop`, and the informer stops with
// the helper or, at the latest, with the actor. The Kubernetes client runs
// on an io_context that the test never runs, so no request ever leaves.

#define CAF_SUITE actors.actor_informer

#include "caf/test/dsl.hpp"

#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "actors/reconcile/actor_informer.hpp"
#include "actors/system/system_config.hpp"
#include "kube/client/client.hpp"
#include "kube/client/messages.hpp"

using namespace istio_csr;
using namespace istio_csr::actors;

namespace {

using event_atom = caf::atom_constant<caf::atom("t_event")>;
using stop_atom = caf::atom_constant<caf::atom("t_stop")>;
using give_atom = caf::atom_constant<caf::atom("t_give")>;

struct probe {
  /// Accepted notifications: "<type>" plus " synced" once synced.
  std::vector<std::string> seen;
  size_t dropped = 0;
  std::shared_ptr<const kube::informer> cache;
  /// Where the actor moves its helper on `give_atom`.
  reconcile::actor_informer kept;
};

struct host_state {
  reconcile::actor_informer inf;
  static inline const char* name = "informer-host";
};

using host_actor = caf::stateful_actor<host_state>;

caf::behavior host(host_actor* self, std::shared_ptr<kube::client> client,
                   std::shared_ptr<probe> p) {
  kube::informer_options io;
  io.res = kube::resources::configmaps;
  io.name = "test";
  self->state.inf.start(self, std::move(client), std::move(io),
                        event_atom::value);
  p->cache = self->state.inf.cache();
  return {
    [self, p](event_atom, const kube::informer_event& ev) {
      auto& inf = self->state.inf;
      if (!inf.accept(ev)) {
        ++p->dropped;
        return;
      }
      p->seen.push_back(kube::to_string(ev.type)
                        + (inf.synced() ? " synced" : ""));
    },
    [self](stop_atom) { self->state.inf.stop(); },
    [self, p](give_atom) { p->kept = std::move(self->state.inf); },
  };
}

kube::informer_event event(kube::informer_event_type type) {
  kube::informer_event ev;
  ev.type = type;
  return ev;
}

struct fixture : test_coordinator_fixture<system_config> {
  // Never run while the test runs: the client sends nothing.
  boost::asio::io_context ioc;
  std::shared_ptr<kube::client> client;
  std::shared_ptr<probe> p = std::make_shared<probe>();
  caf::actor hdl;

  fixture() {
    kube::client_config cfg;
    cfg.server = "https://127.0.0.1:1";
    cfg.insecure_skip_tls_verify = true;
    kube::client_options opts;
    opts.io_context = &ioc;
    auto c = kube::client::make(std::move(cfg), std::move(opts));
    CAF_REQUIRE(c);
    client = std::move(*c);
  }

  ~fixture() override {
    anon_send_exit(hdl, caf::exit_reason::user_shutdown);
    sched.run();
    p.reset();
    client.reset();
    // Runs what the informer and the client queued (all of it sees
    // "stopped") before the io_context goes.
    while (ioc.poll() > 0)
      ioc.restart();
  }

  void spawn(std::shared_ptr<kube::client> c) {
    hdl = sys.spawn(host, std::move(c), p);
    sched.run();
  }

  /// What the informer's thread does with a notification.
  void notify(kube::informer_event_type type) {
    auto& self = deref<host_actor>(hdl);
    reconcile::actor_informer::forward_to(&self,
                                          event_atom::value)(event(type));
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(actor_informer_tests, fixture)

CAF_TEST(notifications arrive in order and synced follows the mailbox) {
  spawn(client);
  CAF_REQUIRE(p->cache != nullptr);
  CAF_CHECK(!p->cache->stopped());
  using type = kube::informer_event_type;
  notify(type::added);
  notify(type::updated);
  notify(type::synced);
  notify(type::deleted);
  // Queued, not yet handled: the actor has not seen the sync.
  CAF_CHECK(!deref<host_actor>(hdl).state.inf.synced());
  CAF_CHECK(p->seen.empty());
  sched.run();
  CAF_CHECK_EQUAL(p->seen,
                  (std::vector<std::string>{"added", "updated", "synced synced",
                                            "deleted synced"}));
  CAF_CHECK(deref<host_actor>(hdl).state.inf.synced());
}

CAF_TEST(nothing is accepted after stop) {
  spawn(client);
  notify(kube::informer_event_type::added);
  caf::anon_send(hdl, stop_atom::value);
  sched.run();
  // Sent before the stop, handled after it: dropped too.
  CAF_CHECK_EQUAL(p->seen, (std::vector<std::string>{"added"}));
  CAF_CHECK(p->cache->stopped());
  CAF_CHECK(!deref<host_actor>(hdl).state.inf.running());
  notify(kube::informer_event_type::synced);
  sched.run();
  CAF_CHECK_EQUAL(p->dropped, 1u);
  CAF_CHECK(!deref<host_actor>(hdl).state.inf.synced());
}

CAF_TEST(the informer stops when the actor terminates) {
  spawn(client);
  CAF_CHECK(deref<host_actor>(hdl).state.inf.running());
  auto cache = p->cache;
  CAF_CHECK(!cache->stopped());
  anon_send_exit(hdl, caf::exit_reason::kill);
  sched.run();
  CAF_CHECK(cache->stopped());
}

CAF_TEST(the informer stops with the actor wherever the helper is kept) {
  spawn(client);
  caf::anon_send(hdl, give_atom::value);
  sched.run();
  CAF_CHECK(p->kept.running());
  CAF_CHECK(!p->cache->stopped());
  anon_send_exit(hdl, caf::exit_reason::kill);
  sched.run();
  CAF_CHECK(p->cache->stopped());
}

CAF_TEST(without a client the actor gets only what others send) {
  spawn(nullptr);
  CAF_CHECK(p->cache == nullptr);
  CAF_CHECK(!deref<host_actor>(hdl).state.inf.running());
  caf::anon_send(hdl, event_atom::value,
                 event(kube::informer_event_type::synced));
  sched.run();
  CAF_CHECK_EQUAL(p->seen, (std::vector<std::string>{"synced synced"}));
}

CAF_TEST(notifications for a terminated actor go nowhere) {
  spawn(client);
  auto forward = reconcile::actor_informer::forward_to(&deref<host_actor>(hdl),
                                                       event_atom::value);
  anon_send_exit(hdl, caf::exit_reason::kill);
  sched.run();
  forward(event(kube::informer_event_type::added));
  sched.run();
  CAF_CHECK(p->seen.empty());
  CAF_CHECK_EQUAL(p->dropped, 0u);
}

CAF_TEST_FIXTURE_SCOPE_END()
