// The supervision tree as the debug endpoint and chaos mode see it
// (actors/supervisor/tree.hpp): every actor answers for itself, nested and
// owned supervisors included; a kill is a crash in every respect the
// supervisor can tell.
#define CAF_SUITE actors.tree

#include "tests/actors/supervisor/supervisor_fixture.hpp"

#include "actors/supervisor/tree.hpp"
#include "introspection/protocol.hpp"
#include "metrics/istio_csr.hpp"

using namespace istio_csr;
using namespace istio_csr::actors;
using namespace istio_csr::actors::test;
using namespace std::chrono_literals;
using introspection::tree_node;

using strings = std::vector<std::string>;

namespace {

strings names(const tree_node& n) {
  strings result;
  for (auto& c : n.children)
    result.push_back(c.name);
  return result;
}

const tree_node& at(const tree_node& root, const std::string& path) {
  const auto* n = introspection::find_path(root, path);
  if (n == nullptr)
    CAF_FAIL("no node " << path);
  return *n;
}

/// A child that is a supervisor of `children`.
child_spec inner_spec(std::string name, std::shared_ptr<probe> p,
                      strings children) {
  return child_spec{name, [name, p, children](child_context& ctx) {
                      std::vector<child_spec> specs;
                      for (auto& c : children)
                        specs.push_back(worker_spec(c, p));
                      supervisor_options opts;
                      opts.name = name;
                      opts.on_give_up = escalate;
                      auto sup = spawn_supervisor(ctx.system(), opts,
                                                  std::move(specs));
                      return sup ? sup->supervisor : caf::actor{};
                    }};
}

/// An actor that runs a supervisor of its own ("owned", with one worker
/// "d") and fails with it, as leader-election and the namespace watcher do.
caf::behavior owner(caf::event_based_actor* self, std::shared_ptr<probe> p) {
  supervisor_options opts;
  opts.name = "owned";
  opts.on_give_up = escalate;
  auto sup = spawn_supervisor(self->system(), opts, {worker_spec("d", p)});
  if (!sup) {
    self->quit(sup.error());
    return {};
  }
  auto owned = sup->supervisor;
  self->link_to(owned);
  self->set_exit_handler([self, owned](caf::exit_msg& msg) {
    if (msg.source == owned.address()) {
      self->quit(msg.reason);
      return;
    }
    if (msg.reason) {
      self->send_exit(owned, msg.reason);
      self->quit(msg.reason);
    }
  });
  introspection::enable(self, [owned] {
    introspection::report r{"owning"};
    r.owned_supervisor = owned;
    r.owned_name = "owned";
    r.owned_starts = 1;
    return r;
  });
  return {[](caf::get_atom) {}};
}

child_spec owner_spec(std::shared_ptr<probe> p) {
  return child_spec{
    "owner", [p](child_context& ctx) { return ctx.system().spawn(owner, p); }};
}

/// A child that never handles `introspect_atom` (it skips it).
child_spec deaf_spec() {
  return child_spec{"deaf", [](child_context& ctx) {
                      return ctx.system().spawn(
                        [](caf::event_based_actor* self, int) -> caf::behavior {
                          self->set_default_handler(caf::skip);
                          return {[](caf::get_atom) {}};
                        },
                        0);
                    }};
}

/// Records the exit messages it gets from the actor it links to.
caf::behavior linked_peer(caf::event_based_actor* self, caf::actor target,
                          std::shared_ptr<std::vector<caf::error>> exits) {
  self->link_to(target);
  self->set_exit_handler(
    [exits](caf::exit_msg& msg) { exits->push_back(msg.reason); });
  return {[](caf::get_atom) {}};
}

bool is(const caf::error& err, supervisor_errc code) {
  return err == make_error(code);
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(tree_tests, fixture)

CAF_TEST(the tree lists every actor with its incarnation restarts and state) {
  auto h = start(
    {worker_spec("a", p), inner_spec("inner", p, {"c"}), owner_spec(p)});
  auto t = tree(h.supervisor);
  CAF_CHECK_EQUAL(t.name, "test-supervisor");
  CAF_CHECK_EQUAL(t.path, "test-supervisor");
  CAF_CHECK(t.supervisor);
  CAF_CHECK(t.running);
  CAF_CHECK_EQUAL(t.incarnation, 1u);
  CAF_CHECK_EQUAL(t.mailbox, std::optional<uint64_t>{0});
  CAF_CHECK_EQUAL(t.state, "3 of 3 children running");
  CAF_CHECK_EQUAL(names(t), strings({"a", "inner", "owner"}));
  auto& a = at(t, "test-supervisor/a");
  CAF_CHECK_EQUAL(a.incarnation, 1u);
  CAF_CHECK_EQUAL(a.restarts, 0u);
  CAF_CHECK(a.running);
  CAF_CHECK(!a.supervisor);
  CAF_CHECK_EQUAL(a.mailbox, std::optional<uint64_t>{0});
  CAF_CHECK_EQUAL(a.state, "a#0 total 0"); // the worker's own words
  CAF_CHECK(a.parent == h.supervisor);
  // A child that is a supervisor lists its children.
  auto& inner = at(t, "test-supervisor/inner");
  CAF_CHECK(inner.supervisor);
  CAF_CHECK_EQUAL(names(inner), strings({"c"}));
  CAF_CHECK_EQUAL(at(t, "test-supervisor/inner/c").state, "c#0 total 0");
  // A supervisor that an actor runs itself hangs below that actor.
  auto& own = at(t, "test-supervisor/owner");
  CAF_CHECK(!own.supervisor);
  CAF_CHECK_EQUAL(own.state, "owning");
  CAF_CHECK_EQUAL(names(own), strings({"owned"}));
  auto& owned = at(t, "test-supervisor/owner/owned");
  CAF_CHECK(owned.supervisor);
  CAF_CHECK(!owned.parent);
  CAF_CHECK(owned.actor);
  CAF_CHECK_EQUAL(owned.incarnation, 1u);
  CAF_CHECK_EQUAL(at(t, "test-supervisor/owner/owned/d").state, "d#0 total 0");
  CAF_CHECK(at(t, "test-supervisor/owner/owned/d").parent == owned.actor);
  CAF_CHECK(introspection::find_path(t, "test-supervisor/nope") == nullptr);
  CAF_CHECK(introspection::find_path(t, "test-supervisor/a/") == nullptr);
  // A crash shows: waiting for its restart, then the next incarnation.
  self->send(h.child("a"), crash_atom::value);
  sched.run();
  auto waiting = tree(h.supervisor);
  auto& wa = at(waiting, "test-supervisor/a");
  CAF_CHECK(!wa.running);
  CAF_CHECK_EQUAL(wa.state, "waiting for restart");
  CAF_CHECK_EQUAL(wa.mailbox, std::optional<uint64_t>{});
  CAF_CHECK_EQUAL(waiting.state, "2 of 3 children running");
  advance_time(1s);
  sched.run();
  auto after = tree(h.supervisor);
  auto& ra = at(after, "test-supervisor/a");
  CAF_CHECK(ra.running);
  CAF_CHECK_EQUAL(ra.incarnation, 2u);
  CAF_CHECK_EQUAL(ra.restarts, 1u);
  CAF_CHECK_EQUAL(ra.state, "a#1 total 0");
  // How close it is to making its supervisor give up (3 in 60 s).
  CAF_CHECK_EQUAL(ra.recent_failures, 1u);
  CAF_CHECK_EQUAL(ra.max_restarts, 3u);
  CAF_CHECK_EQUAL(at(after, "test-supervisor/inner").recent_failures, 0u);
  CAF_CHECK_EQUAL(at(after, "test-supervisor/owner/owned").max_restarts, 0u);
  advance_time(61s);
  sched.run();
  auto later = tree(h.supervisor);
  CAF_CHECK_EQUAL(at(later, "test-supervisor/a").recent_failures, 0u);
}

CAF_TEST(an actor reports the messages waiting in its mailbox) {
  auto h = start({worker_spec("a", p)});
  auto incarnation = at(tree(h.supervisor), "test-supervisor/a").actor;
  auto answer
    = self->request(incarnation, caf::infinite,
                    introspection::introspect_atom::value, caf::timespan{1s});
  for (int i = 0; i < 3; ++i)
    self->send(incarnation, append_atom::value, i);
  sched.run();
  bool answered = false;
  answer.receive(
    [&](introspection::actor_info& info) {
      answered = true;
      // The three appends came after the question.
      CAF_CHECK_EQUAL(info.mailbox, 3u);
      CAF_CHECK_EQUAL(info.state, "a#0 total 0");
    },
    [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  CAF_CHECK(answered);
}

CAF_TEST(an actor that does not answer in time costs only its own node) {
  auto h = start({worker_spec("a", p), deaf_spec()});
  auto r = std::make_shared<reply<tree_node>>();
  helpers.push_back(sys.spawn(
    [](caf::event_based_actor* s, caf::actor root,
       std::shared_ptr<reply<tree_node>> r) -> caf::behavior {
      query_tree(s, root, 2s, [r](caf::expected<tree_node> t) {
        r->done = true;
        if (t)
          r->value = std::move(*t);
      });
      return {[](caf::get_atom) {}};
    },
    h.supervisor, r));
  sched.run();
  CAF_CHECK(!r->done);  // the supervisor waits for the deaf child ...
  advance_time(1500ms); // ... at most 3/4 of the budget
  sched.run();
  CAF_REQUIRE(r->done);
  CAF_REQUIRE(r->value);
  auto& deaf = at(*r->value, "test-supervisor/deaf");
  CAF_CHECK(deaf.running);
  CAF_CHECK_EQUAL(deaf.mailbox, std::optional<uint64_t>{});
  CAF_CHECK(deaf.state.rfind("no answer: ", 0) == 0);
  CAF_CHECK_EQUAL(at(*r->value, "test-supervisor/a").mailbox,
                  std::optional<uint64_t>{0});
}

CAF_TEST(a kill is a crash restarted counted and escalated like one) {
  auto restarts = metrics::ours().actor_restarts("a").value();
  auto h = start({worker_spec("a", p), worker_spec("b", p)});
  auto first = at(tree(h.supervisor), "test-supervisor/a").actor;
  auto exits = std::make_shared<std::vector<caf::error>>();
  helpers.push_back(sys.spawn(linked_peer, first, exits));
  sched.run();
  auto down = watch(first);
  CAF_CHECK(!kill(h.supervisor, "test-supervisor/a"));
  sched.run();
  // It ended with the error, and what is linked to it gets a trappable exit
  // message with that reason (exit_reason::kill would take it along).
  CAF_REQUIRE(down->has_value());
  CAF_CHECK(is(**down, supervisor_errc::killed));
  CAF_REQUIRE_EQUAL(exits->size(), 1u);
  CAF_CHECK(is(exits->front(), supervisor_errc::killed));
  CAF_CHECK_EQUAL(p->stops, strings({"stop a#0"}));
  // While it waits for its restart there is nothing to kill.
  auto refused
    = ask_void(h.supervisor, kill_child_atom::value, std::string{"a"},
               make_error(supervisor_errc::killed));
  sched.run();
  CAF_REQUIRE(refused->done);
  CAF_CHECK(is(refused->err, supervisor_errc::no_such_child));
  // The backoff, the restart and its metric as after any crash.
  advance_time(999ms);
  sched.run();
  CAF_CHECK_EQUAL(spawns("a"), 1);
  advance_time(1ms);
  sched.run();
  CAF_CHECK_EQUAL(spawns("a"), 2);
  CAF_CHECK_EQUAL(metrics::ours().actor_restarts("a").value(), restarts + 1);
  CAF_CHECK_EQUAL(status(h.supervisor, "a").restarts, 1u);
  CAF_CHECK_EQUAL(spawns("b"), 1);
  // Past the intensity (3 in 60 s) the supervisor gives up.
  for (auto delay : {2s, 4s}) {
    CAF_CHECK(!kill(h.supervisor, "test-supervisor/a"));
    sched.run();
    advance_time(delay);
    sched.run();
  }
  CAF_CHECK(give_ups.empty());
  CAF_CHECK(!kill(h.supervisor, "test-supervisor/a"));
  sched.run();
  CAF_REQUIRE_EQUAL(give_ups.size(), 1u);
  CAF_CHECK_EQUAL(give_ups[0].child, "a");
  CAF_CHECK(give_ups[0].reason.find("killed") != std::string::npos);
}

CAF_TEST(killing an owned supervisor is a crash of its owner) {
  auto h = start({owner_spec(p)});
  CAF_CHECK(!kill(h.supervisor, "test-supervisor/owner/owned"));
  sched.run();
  CAF_CHECK_EQUAL(status(h.supervisor, "owner").running, false);
  advance_time(1s);
  sched.run();
  auto t = tree(h.supervisor);
  CAF_CHECK_EQUAL(at(t, "test-supervisor/owner").incarnation, 2u);
  CAF_CHECK_EQUAL(spawns("d"), 2);
  CAF_CHECK(at(t, "test-supervisor/owner/owned/d").running);
  // A worker below the owned supervisor is restarted by that one alone.
  CAF_CHECK(!kill(h.supervisor, "test-supervisor/owner/owned/d"));
  sched.run();
  advance_time(100ms); // the owned supervisor's default backoff
  sched.run();
  auto u = tree(h.supervisor);
  CAF_CHECK_EQUAL(at(u, "test-supervisor/owner").incarnation, 2u);
  CAF_CHECK_EQUAL(at(u, "test-supervisor/owner/owned/d").incarnation, 2u);
}

CAF_TEST_FIXTURE_SCOPE_END()
