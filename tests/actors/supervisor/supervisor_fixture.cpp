#include "tests/actors/supervisor/supervisor_fixture.hpp"
#include "actors/supervisor/tree.hpp"
#include "introspection/protocol.hpp"
#include "tests/support/actors.hpp"

#include <stdexcept>

namespace istio_csr::actors::test {

caf::behavior worker(caf::event_based_actor* self, std::string name,
                     int incarnation, std::shared_ptr<probe> p,
                     caf::actor peer) {
  auto total = std::make_shared<int>(0);
  auto received = std::make_shared<std::vector<int>>();
  auto held = std::make_shared<std::vector<caf::typed_response_promise<int>>>();
  auto tag = name + "#" + std::to_string(incarnation);
  // Answers the debug endpoint's question like the agent's actors.
  introspection::enable(
    self, [tag, total] { return tag + " total " + std::to_string(*total); });
  self->attach_functor(
    [p, tag](const caf::error&) { p->stops.push_back("stop " + tag); });
  // Quiet crashes: CAF's default handler prints to stderr.
  self->set_exception_handler([](std::exception_ptr& eptr) -> caf::error {
    try {
      std::rethrow_exception(eptr);
    } catch (const std::exception& e) {
      return caf::make_error(caf::sec::runtime_error, e.what());
    }
  });
  return {
    [=](caf::add_atom, int x) {
      *total += x;
      return *total;
    },
    [=](caf::get_atom) { return *total; },
    [=](whoami_atom) { return incarnation; },
    [=](append_atom, int x) { received->push_back(x); },
    [=](received_atom) { return *received; },
    [=](crash_atom) -> int { throw std::runtime_error("test crash"); },
    [=](hold_atom) {
      auto rp = self->make_response_promise<int>();
      held->push_back(rp);
      return rp;
    },
    [=](release_atom, int x) {
      for (auto& rp : *held)
        rp.deliver(x);
      held->clear();
    },
    [=](quit_atom) { self->quit(); },
    [=](sender_atom) {
      p->senders.push_back(self->current_sender()->address());
    },
    [=](delegate_atom, caf::actor target, int x) {
      return self->delegate(target, caf::add_atom::value, x);
    },
    [=](relay_atom, int x) -> caf::result<int> {
      auto rp = self->make_response_promise<int>();
      self->request(peer, caf::infinite, caf::add_atom::value, x)
        .then([=](int y) mutable { rp.deliver(y); },
              [=](caf::error& e) mutable { rp.deliver(std::move(e)); });
      return rp;
    },
  };
}

child_spec worker_spec(std::string name, std::shared_ptr<probe> p,
                       restart_policy restart, std::string peer) {
  child_spec spec;
  spec.name = name;
  spec.restart = restart;
  spec.spawn = [name, p, peer](child_context& ctx) {
    ++p->spawns[name];
    auto peer_handle = peer.empty() ? caf::actor{} : ctx.sibling(peer);
    return ctx.system().spawn(worker, name, static_cast<int>(ctx.restarts()), p,
                              peer_handle);
  };
  return spec;
}

fixture::~fixture() {
  // Leave no actor behind: the actor system waits for all of them.
  istio_csr::test::send_exit_to_all(caf::exit_reason::kill, supervisors,
                                    helpers);
  sched.run();
}

supervisor_options fixture::options() {
  supervisor_options opts;
  opts.name = "test-supervisor";
  opts.max_restarts = 3;
  opts.window = std::chrono::seconds(60);
  opts.backoff.initial = std::chrono::seconds(1);
  opts.backoff.max = std::chrono::seconds(8);
  opts.backoff.multiplier = 2.0;
  opts.on_give_up = [this](const give_up_report& r) { give_ups.push_back(r); };
  return opts;
}

supervisor_handle fixture::start(std::vector<child_spec> children) {
  return start(options(), std::move(children));
}

supervisor_handle fixture::start(supervisor_options opts,
                                 std::vector<child_spec> children) {
  auto handle = spawn_supervisor(sys, std::move(opts), std::move(children));
  if (!handle)
    CAF_FAIL("spawn_supervisor failed: " << sys.render(handle.error()));
  supervisors.push_back(handle->supervisor);
  sched.run();
  return *handle;
}

child_status fixture::status(const caf::actor& sup, const std::string& name) {
  auto r = ask<child_status>(sup, child_status_atom::value, name);
  return value_of(r);
}

std::shared_ptr<std::optional<caf::error>> fixture::watch(const caf::actor& x) {
  auto result = std::make_shared<std::optional<caf::error>>();
  helpers.push_back(sys.spawn(
    [](caf::event_based_actor* s, caf::actor target,
       std::shared_ptr<std::optional<caf::error>> out) -> caf::behavior {
      s->monitor(target);
      s->set_down_handler([s, out](caf::down_msg& dm) {
        *out = dm.reason;
        s->quit();
      });
      return {[](caf::get_atom) {}};
    },
    x, result));
  return result;
}

introspection::tree_node fixture::tree(const caf::actor& root,
                                       caf::timespan budget) {
  auto r = std::make_shared<reply<introspection::tree_node>>();
  helpers.push_back(sys.spawn(
    [](caf::event_based_actor* s, caf::actor root, caf::timespan budget,
       std::shared_ptr<reply<introspection::tree_node>> r) -> caf::behavior {
      query_tree(s, root, budget,
                 [r](caf::expected<introspection::tree_node> t) {
                   r->done = true;
                   if (t)
                     r->value = std::move(*t);
                   else
                     r->err = std::move(t.error());
                 });
      return {[](caf::get_atom) {}};
    },
    root, budget, r));
  return value_of(r);
}

caf::error fixture::kill(const caf::actor& root, const std::string& path) {
  auto t = tree(root);
  const auto* node = introspection::find_path(t, path);
  if (node == nullptr)
    CAF_FAIL("no node " << path);
  auto r = std::make_shared<reply<caf::error>>();
  helpers.push_back(sys.spawn(
    [](caf::event_based_actor* s, introspection::tree_node node,
       std::shared_ptr<reply<caf::error>> r) -> caf::behavior {
      kill_node(s, node, make_error(supervisor_errc::killed, "test"),
                [r](caf::error err) {
                  r->done = true;
                  r->value = std::move(err);
                });
      return {[](caf::get_atom) {}};
    },
    *node, r));
  return value_of(r);
}

} // namespace istio_csr::actors::test
