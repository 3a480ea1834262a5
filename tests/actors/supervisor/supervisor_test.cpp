#define CAF_SUITE actors.supervisor

#include "tests/actors/supervisor/supervisor_fixture.hpp"

#include <stdexcept>

#include "metrics/istio_csr.hpp"

using namespace istio_csr::actors;
using namespace istio_csr::actors::test;
using namespace std::chrono_literals;

using strings = std::vector<std::string>;
using ints = std::vector<int>;

namespace {

bool is_supervisor_error(const caf::error& err, supervisor_errc code) {
  return err.category() == supervisor_error_category
         && err.code() == static_cast<uint8_t>(code);
}

/// An actor that ignores `user_shutdown` (it traps exit messages).
caf::behavior stubborn(caf::event_based_actor* self, std::shared_ptr<probe> p) {
  self->attach_functor(
    [p](const caf::error&) { p->stops.push_back("stop stubborn#0"); });
  self->set_exit_handler([](caf::exit_msg&) {});
  return {[](caf::get_atom) { return 0; }};
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(supervisor_tests, fixture)

CAF_TEST(backoff delays grow exponentially up to the maximum) {
  backoff_policy b;
  b.initial = 100ms;
  b.max = 1s;
  b.multiplier = 2.0;
  CAF_CHECK_EQUAL(b.delay(1), caf::timespan{100ms});
  CAF_CHECK_EQUAL(b.delay(2), caf::timespan{200ms});
  CAF_CHECK_EQUAL(b.delay(4), caf::timespan{800ms});
  CAF_CHECK_EQUAL(b.delay(5), caf::timespan{1s});
  CAF_CHECK_EQUAL(b.delay(1000), caf::timespan{1s});
  b.initial = caf::timespan{0};
  CAF_CHECK_EQUAL(b.delay(3), caf::timespan{0});
}

CAF_TEST(malformed child lists are rejected) {
  auto dup = spawn_supervisor(sys, options(),
                              {worker_spec("a", p), worker_spec("a", p)});
  CAF_REQUIRE(!dup);
  CAF_CHECK(is_supervisor_error(dup.error(), supervisor_errc::duplicate_child));
  auto unnamed = spawn_supervisor(sys, options(), {worker_spec("", p)});
  CAF_REQUIRE(!unnamed);
  CAF_CHECK(
    is_supervisor_error(unnamed.error(), supervisor_errc::invalid_spec));
}

CAF_TEST(a crashing child is restarted and its sibling keeps state and mail) {
  auto restarts_a = istio_csr::metrics::ours().actor_restarts("a").value();
  auto restarts_b = istio_csr::metrics::ours().actor_restarts("b").value();
  auto h = start({worker_spec("a", p), worker_spec("b", p)});
  auto a = h.child("a");
  auto b = h.child("b");
  CAF_CHECK_EQUAL(value_of(ask<int>(b, caf::add_atom::value, 5)), 5);
  // Mail queued to the sibling around the crash is processed.
  self->send(b, append_atom::value, 1);
  self->send(a, crash_atom::value);
  self->send(b, append_atom::value, 2);
  sched.run();
  CAF_CHECK_EQUAL(p->stops, strings({"stop a#0"}));
  CAF_CHECK_EQUAL(status(h.supervisor, "a").running, false);
  advance_time(1s);
  sched.run();
  CAF_CHECK_EQUAL(spawns("a"), 2);
  CAF_CHECK_EQUAL(spawns("b"), 1);
  // The new incarnation answers, with fresh state.
  CAF_CHECK_EQUAL(value_of(ask<int>(a, whoami_atom::value)), 1);
  CAF_CHECK_EQUAL(value_of(ask<int>(a, caf::get_atom::value)), 0);
  // The sibling kept its state and its mail.
  CAF_CHECK_EQUAL(value_of(ask<int>(b, caf::get_atom::value)), 5);
  CAF_CHECK_EQUAL(value_of(ask<ints>(b, received_atom::value)), ints({1, 2}));
  auto sa = status(h.supervisor, "a");
  CAF_CHECK_EQUAL(sa.running, true);
  CAF_CHECK_EQUAL(sa.restarts, 1u);
  CAF_CHECK_EQUAL(sa.recent_failures, 1u);
  CAF_CHECK_EQUAL(status(h.supervisor, "b").restarts, 0u);
  CAF_CHECK_EQUAL(p->stops, strings({"stop a#0"}));
  // istio_csr_actor_restarts_total{actor="a"} counted the restart.
  CAF_CHECK_EQUAL(istio_csr::metrics::ours().actor_restarts("a").value(),
                  restarts_a + 1);
  CAF_CHECK_EQUAL(istio_csr::metrics::ours().actor_restarts("b").value(),
                  restarts_b);
}

CAF_TEST(backoff delays grow and fall back after a quiet window) {
  auto h = start({worker_spec("a", p)});
  auto a = h.child("a");
  auto crash_and_wait = [&](caf::timespan delay, int spawns_before) {
    self->send(a, crash_atom::value);
    sched.run();
    advance_time(delay - 1ms);
    sched.run();
    CAF_CHECK_EQUAL(spawns("a"), spawns_before); // not before the delay
    advance_time(1ms);
    sched.run();
    CAF_CHECK_EQUAL(spawns("a"), spawns_before + 1); // right after it
  };
  crash_and_wait(1s, 1);
  crash_and_wait(2s, 2);
  crash_and_wait(4s, 3);
  CAF_CHECK_EQUAL(status(h.supervisor, "a").recent_failures, 3u);
  // After a whole window without failures the backoff starts over.
  advance_time(61s);
  sched.run();
  crash_and_wait(1s, 4);
  CAF_CHECK_EQUAL(give_ups.size(), 0u);
  CAF_CHECK_EQUAL(status(h.supervisor, "a").restarts, 4u);
}

CAF_TEST(a siblings stable handle reaches the restarted child) {
  // b got a's stable handle from its child context at spawn time.
  auto h = start(
    {worker_spec("a", p), worker_spec("b", p, restart_policy::permanent, "a")});
  auto a = h.child("a");
  auto b = h.child("b");
  CAF_CHECK_EQUAL(value_of(ask<int>(b, relay_atom::value, 2)), 2);
  self->send(a, crash_atom::value);
  sched.run();
  // While a is down, b's request waits in a's stable handle.
  auto r = ask<int>(b, relay_atom::value, 3);
  sched.run();
  CAF_CHECK(!r->done);
  advance_time(1s);
  sched.run();
  CAF_REQUIRE(r->done);
  CAF_CHECK_EQUAL(r->value, 3); // answered by the new, empty incarnation
  CAF_CHECK_EQUAL(value_of(ask<int>(a, whoami_atom::value)), 1);
  // And afterwards, as usual.
  CAF_CHECK_EQUAL(value_of(ask<int>(b, relay_atom::value, 4)), 7);
  CAF_CHECK_EQUAL(spawns("b"), 1);
}

CAF_TEST(messages sent while a child is down are delivered in order) {
  auto h = start({worker_spec("a", p)});
  auto a = h.child("a");
  self->send(a, crash_atom::value);
  sched.run();
  for (int i = 1; i <= 5; ++i)
    self->send(a, append_atom::value, i);
  auto who = ask<int>(a, whoami_atom::value);
  sched.run();
  CAF_CHECK(!who->done);
  advance_time(1s);
  sched.run();
  CAF_REQUIRE(who->done);
  CAF_CHECK_EQUAL(who->value, 1); // from the new incarnation
  CAF_CHECK_EQUAL(value_of(ask<ints>(a, received_atom::value)),
                  ints({1, 2, 3, 4, 5}));
  // Asynchronous messages keep their sender.
  self->send(a, sender_atom::value);
  sched.run();
  CAF_REQUIRE_EQUAL(p->senders.size(), 1u);
  CAF_CHECK_EQUAL(p->senders[0], self->address());
}

CAF_TEST(a request in flight inside the crashing incarnation gets an error) {
  auto h = start({worker_spec("a", p)});
  auto a = h.child("a");
  auto held = ask<int>(a, hold_atom::value);
  sched.run();
  CAF_CHECK(!held->done);
  // The request that crashes the incarnation gets CAF's error for it.
  auto crashing = ask<int>(a, crash_atom::value);
  sched.run();
  CAF_REQUIRE(crashing->done);
  CAF_CHECK_EQUAL(crashing->err, caf::sec::runtime_error);
  // The held one is failed as soon as the incarnation is gone, before the
  // restart (the backoff is still running).
  CAF_REQUIRE(held->done);
  CAF_CHECK(!held->value);
  CAF_CHECK(is_supervisor_error(held->err, supervisor_errc::child_restarted));
  CAF_CHECK_EQUAL(spawns("a"), 1);
  advance_time(1s);
  sched.run();
  CAF_CHECK_EQUAL(value_of(ask<int>(a, whoami_atom::value)), 1);
}

CAF_TEST(a request queued in the crashing incarnation is redelivered) {
  auto h = start({worker_spec("a", p)});
  auto a = h.child("a");
  self->send(a, crash_atom::value);
  auto r = ask<int>(a, whoami_atom::value);
  // Let the asker send, then the stable handle forward both messages, so
  // that the request waits behind the crash in the incarnation's mailbox.
  CAF_REQUIRE(sched.prioritize(helpers.back()));
  sched.run_once();
  CAF_REQUIRE(sched.prioritize(a));
  sched.run_once();
  CAF_REQUIRE(sched.prioritize(a));
  sched.run_once();
  sched.run();
  CAF_CHECK(!r->done); // not failed: it was never started
  advance_time(1s);
  sched.run();
  CAF_REQUIRE(r->done);
  CAF_CHECK_EQUAL(r->value, 1);
}

CAF_TEST(a bounce from an actor the child delegated to is an error) {
  auto h = start({worker_spec("a", p)});
  auto a = h.child("a");
  auto dead = sys.spawn(worker, "dead", 0, p, caf::actor{});
  caf::anon_send_exit(dead, caf::exit_reason::kill);
  sched.run();
  auto r = ask<int>(a, delegate_atom::value, dead, 1);
  sched.run();
  CAF_REQUIRE(r->done);
  CAF_CHECK_EQUAL(r->err, caf::sec::request_receiver_down);
  CAF_CHECK_EQUAL(spawns("a"), 1);
  CAF_CHECK_EQUAL(value_of(ask<int>(a, whoami_atom::value)), 0);
}

CAF_TEST(the intensity limit stops all children and gives up) {
  auto opts = options();
  opts.max_restarts = 2;
  size_t stops_at_give_up = 0;
  opts.on_give_up = [&](const give_up_report& r) {
    give_ups.push_back(r);
    stops_at_give_up = p->stops.size();
  };
  auto h = start(opts, {worker_spec("first", p), worker_spec("crasher", p),
                        worker_spec("last", p)});
  auto sup_down = watch(h.supervisor);
  auto first_down = watch(h.child("first"));
  auto crasher = h.child("crasher");
  for (auto delay : {1s, 2s}) {
    self->send(crasher, crash_atom::value);
    sched.run();
    advance_time(delay);
    sched.run();
  }
  CAF_CHECK_EQUAL(spawns("crasher"), 3);
  CAF_CHECK_EQUAL(give_ups.size(), 0u);
  // A request waiting for the crasher when the supervisor gives up.
  self->send(crasher, crash_atom::value);
  auto waiting = ask<int>(crasher, whoami_atom::value);
  sched.run();
  CAF_REQUIRE_EQUAL(give_ups.size(), 1u);
  CAF_CHECK_EQUAL(give_ups[0].supervisor, "test-supervisor");
  CAF_CHECK_EQUAL(give_ups[0].child, "crasher");
  CAF_CHECK_EQUAL(give_ups[0].failures, 3u);
  CAF_CHECK_EQUAL(give_ups[0].window, caf::timespan{60s});
  CAF_CHECK_EQUAL(give_ups[0].reason.find("runtime_error") != std::string::npos,
                  true);
  // Children stopped in reverse start order, before the give-up action.
  CAF_CHECK_EQUAL(p->stops,
                  strings({"stop crasher#0", "stop crasher#1", "stop crasher#2",
                           "stop last#0", "stop first#0"}));
  CAF_CHECK_EQUAL(stops_at_give_up, 5u);
  CAF_CHECK_EQUAL(spawns("crasher"), 3);
  CAF_REQUIRE(sup_down->has_value());
  CAF_CHECK(is_supervisor_error(**sup_down, supervisor_errc::gave_up));
  CAF_CHECK(first_down->has_value());
  CAF_REQUIRE(waiting->done);
  CAF_CHECK(is_supervisor_error(waiting->err, supervisor_errc::child_stopped));
}

CAF_TEST(failures outside the window do not count) {
  auto opts = options();
  opts.max_restarts = 2;
  auto h = start(opts, {worker_spec("a", p)});
  auto a = h.child("a");
  for (auto delay : {1s, 2s}) {
    self->send(a, crash_atom::value);
    sched.run();
    advance_time(delay);
    sched.run();
  }
  advance_time(60s);
  self->send(a, crash_atom::value);
  sched.run();
  advance_time(1s);
  sched.run();
  CAF_CHECK_EQUAL(give_ups.size(), 0u);
  CAF_CHECK_EQUAL(spawns("a"), 4);
  CAF_CHECK_EQUAL(value_of(ask<int>(a, whoami_atom::value)), 3);
}

CAF_TEST(restart policies decide which exits restart a child) {
  auto h = start({worker_spec("perm", p, restart_policy::permanent),
                  worker_spec("trans", p, restart_policy::transient),
                  worker_spec("trans2", p, restart_policy::transient),
                  worker_spec("temp", p, restart_policy::temporary)});
  auto trans_down = watch(h.child("trans"));
  auto temp_down = watch(h.child("temp"));
  // Normal exits: only the permanent child comes back.
  self->send(h.child("perm"), quit_atom::value);
  self->send(h.child("trans"), quit_atom::value);
  // Abnormal exits: the transient child comes back, the temporary does not.
  self->send(h.child("trans2"), crash_atom::value);
  self->send(h.child("temp"), crash_atom::value);
  sched.run();
  advance_time(1s);
  sched.run();
  CAF_CHECK_EQUAL(spawns("perm"), 2);
  CAF_CHECK_EQUAL(spawns("trans"), 1);
  CAF_CHECK_EQUAL(spawns("trans2"), 2);
  CAF_CHECK_EQUAL(spawns("temp"), 1);
  CAF_CHECK_EQUAL(value_of(ask<int>(h.child("perm"), whoami_atom::value)), 1);
  CAF_CHECK_EQUAL(value_of(ask<int>(h.child("trans2"), whoami_atom::value)), 1);
  // Children that are not restarted are forgotten; their stable handles
  // stop, so requests fail instead of waiting forever.
  auto gone = ask<child_status>(h.supervisor, child_status_atom::value,
                                std::string{"trans"});
  sched.run();
  CAF_CHECK(is_supervisor_error(gone->err, supervisor_errc::no_such_child));
  CAF_CHECK(trans_down->has_value());
  CAF_CHECK(temp_down->has_value());
  auto r = ask<int>(h.child("temp"), whoami_atom::value);
  sched.run();
  CAF_REQUIRE(r->done);
  CAF_CHECK_EQUAL(r->err, caf::sec::request_receiver_down);
  auto all = value_of(
    ask<std::vector<child_status>>(h.supervisor, child_status_atom::value));
  CAF_REQUIRE_EQUAL(all.size(), 2u);
  CAF_CHECK_EQUAL(all[0].name, "perm");
  CAF_CHECK_EQUAL(all[1].name, "trans2");
}

CAF_TEST(a failed start is retried with backoff) {
  auto attempts = std::make_shared<int>(0);
  child_spec spec = worker_spec("flaky", p);
  auto inner = spec.spawn;
  spec.spawn = [attempts, inner](child_context& ctx) -> caf::actor {
    if ((*attempts)++ == 0)
      throw std::runtime_error("not yet");
    return inner(ctx);
  };
  auto h = start({spec});
  auto r = ask<int>(h.child("flaky"), whoami_atom::value);
  sched.run();
  CAF_CHECK(!r->done);
  CAF_CHECK_EQUAL(status(h.supervisor, "flaky").running, false);
  advance_time(1s);
  sched.run();
  CAF_REQUIRE(r->done);
  CAF_CHECK_EQUAL(r->value, 1);
  CAF_CHECK_EQUAL(*attempts, 2);
}

CAF_TEST(children are added and removed at runtime) {
  auto h = start({});
  auto dyn = value_of(ask<caf::actor>(h.supervisor, add_child_atom::value,
                                      worker_spec("dyn", p)));
  CAF_CHECK_EQUAL(value_of(ask<int>(dyn, caf::add_atom::value, 4)), 4);
  CAF_CHECK_EQUAL(value_of(ask<caf::actor>(h.supervisor, get_child_atom::value,
                                           std::string{"dyn"})),
                  dyn);
  auto dup = ask<caf::actor>(h.supervisor, add_child_atom::value,
                             worker_spec("dyn", p));
  sched.run();
  CAF_CHECK(is_supervisor_error(dup->err, supervisor_errc::duplicate_child));
  // A dynamic child is restarted on its own like any other.
  self->send(dyn, crash_atom::value);
  sched.run();
  advance_time(1s);
  sched.run();
  CAF_CHECK_EQUAL(value_of(ask<int>(dyn, whoami_atom::value)), 1);
  // Removing stops it, forgets it and stops its stable handle.
  auto dyn_down = watch(dyn);
  auto removed
    = ask_void(h.supervisor, remove_child_atom::value, std::string{"dyn"});
  sched.run();
  CAF_REQUIRE(removed->done);
  CAF_CHECK(removed->value.has_value());
  CAF_CHECK_EQUAL(p->stops, strings({"stop dyn#0", "stop dyn#1"}));
  CAF_CHECK(dyn_down->has_value());
  auto lookup
    = ask<caf::actor>(h.supervisor, get_child_atom::value, std::string{"dyn"});
  auto again
    = ask_void(h.supervisor, remove_child_atom::value, std::string{"dyn"});
  sched.run();
  CAF_CHECK(is_supervisor_error(lookup->err, supervisor_errc::no_such_child));
  CAF_CHECK(is_supervisor_error(again->err, supervisor_errc::no_such_child));
  // The name can be used again.
  auto dyn2 = value_of(ask<caf::actor>(h.supervisor, add_child_atom::value,
                                       worker_spec("dyn", p)));
  CAF_CHECK_EQUAL(value_of(ask<int>(dyn2, whoami_atom::value)), 0);
}

CAF_TEST(a nested supervisor restarts its own children and escalates) {
  auto nested_opts = options();
  nested_opts.name = "nested";
  nested_opts.max_restarts = 1;
  nested_opts.on_give_up = escalate;
  // A child whose incarnations are supervisors: a supervision tree.
  std::vector<child_spec> grandchildren{worker_spec("g1", p),
                                        worker_spec("g2", p)};
  child_spec nested_spec{
    "nested", [nested_opts, grandchildren](child_context& ctx) {
      auto handle = spawn_supervisor(ctx.system(), nested_opts, grandchildren);
      return handle ? handle->supervisor : caf::actor{};
    }};
  auto h = start({worker_spec("top", p), nested_spec});
  auto nested = h.child("nested");
  // The nested supervisor answers through its stable handle.
  auto g1 = value_of(
    ask<caf::actor>(nested, get_child_atom::value, std::string{"g1"}));
  auto g2 = value_of(
    ask<caf::actor>(nested, get_child_atom::value, std::string{"g2"}));
  CAF_CHECK_EQUAL(value_of(ask<int>(g2, caf::add_atom::value, 7)), 7);
  // A grandchild crash restarts only the grandchild.
  self->send(g1, crash_atom::value);
  sched.run();
  advance_time(1s);
  sched.run();
  CAF_CHECK_EQUAL(spawns("g1"), 2);
  CAF_CHECK_EQUAL(spawns("g2"), 1);
  CAF_CHECK_EQUAL(value_of(ask<int>(g2, caf::get_atom::value)), 7);
  CAF_CHECK_EQUAL(status(h.supervisor, "nested").restarts, 0u);
  // Beyond its intensity the nested supervisor gives up; its parent
  // restarts it (and so its children) instead of ending the process.
  self->send(g1, crash_atom::value);
  sched.run();
  CAF_CHECK_EQUAL(give_ups.size(), 0u);
  CAF_CHECK_EQUAL(status(h.supervisor, "nested").running, false);
  advance_time(1s);
  sched.run();
  CAF_CHECK_EQUAL(status(h.supervisor, "nested").restarts, 1u);
  CAF_CHECK_EQUAL(spawns("g1"), 3);
  CAF_CHECK_EQUAL(spawns("g2"), 2);
  CAF_CHECK_EQUAL(spawns("top"), 1);
  auto new_g2 = value_of(
    ask<caf::actor>(nested, get_child_atom::value, std::string{"g2"}));
  CAF_CHECK_NOT_EQUAL(new_g2, g2);
  CAF_CHECK_EQUAL(value_of(ask<int>(new_g2, caf::get_atom::value)), 0);
}

CAF_TEST(shutdown stops children in reverse start order) {
  auto h
    = start({worker_spec("a", p), worker_spec("b", p), worker_spec("c", p)});
  auto sup_down = watch(h.supervisor);
  auto a_down = watch(h.child("a"));
  caf::anon_send_exit(h.supervisor, caf::exit_reason::user_shutdown);
  sched.run();
  CAF_CHECK_EQUAL(p->stops, strings({"stop c#0", "stop b#0", "stop a#0"}));
  CAF_REQUIRE(sup_down->has_value());
  CAF_CHECK_EQUAL(**sup_down, caf::exit_reason::user_shutdown);
  CAF_CHECK(a_down->has_value());
  CAF_CHECK_EQUAL(spawns("a"), 1); // nothing restarted during shutdown
}

CAF_TEST(shutdown waits for each child and kills it after its timeout) {
  child_spec slow;
  slow.name = "stubborn";
  slow.shutdown_timeout = 2s;
  slow.spawn
    = [this](child_context& ctx) { return ctx.system().spawn(stubborn, p); };
  auto h = start({worker_spec("a", p), slow, worker_spec("c", p)});
  auto sup_down = watch(h.supervisor);
  caf::anon_send_exit(h.supervisor, caf::exit_reason::user_shutdown);
  sched.run();
  CAF_CHECK_EQUAL(p->stops, strings({"stop c#0"}));
  advance_time(1999ms);
  sched.run();
  CAF_CHECK_EQUAL(p->stops, strings({"stop c#0"})); // a waits its turn
  CAF_CHECK(!sup_down->has_value());
  advance_time(1ms);
  sched.run();
  CAF_CHECK_EQUAL(p->stops,
                  strings({"stop c#0", "stop stubborn#0", "stop a#0"}));
  CAF_REQUIRE(sup_down->has_value());
  CAF_CHECK_EQUAL(**sup_down, caf::exit_reason::user_shutdown);
}

CAF_TEST(a killed supervisor takes its children with it) {
  auto h = start({worker_spec("a", p), worker_spec("b", p)});
  auto a_down = watch(h.child("a"));
  auto held = ask<int>(h.child("b"), hold_atom::value);
  sched.run();
  caf::anon_send_exit(h.supervisor, caf::exit_reason::kill);
  sched.run();
  CAF_CHECK_EQUAL(p->stops.size(), 2u);
  CAF_CHECK(a_down->has_value());
  CAF_REQUIRE(held->done); // not left hanging
  CAF_CHECK(!held->value);
}

CAF_TEST(removing waits for the child and a killed supervisor still answers) {
  child_spec slow;
  slow.name = "stubborn";
  slow.shutdown_timeout = 2s;
  slow.spawn
    = [this](child_context& ctx) { return ctx.system().spawn(stubborn, p); };
  auto h = start({slow});
  auto removed
    = ask_void(h.supervisor, remove_child_atom::value, std::string{"stubborn"});
  sched.run();
  CAF_CHECK(!removed->done); // the child ignores user_shutdown
  caf::anon_send_exit(h.supervisor, caf::exit_reason::kill);
  sched.run();
  CAF_REQUIRE(removed->done);
  CAF_CHECK(is_supervisor_error(removed->err, supervisor_errc::shutting_down));
  CAF_CHECK_EQUAL(p->stops, strings({"stop stubborn#0"}));
}

CAF_TEST_FIXTURE_SCOPE_END()
