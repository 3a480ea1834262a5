// A tiny program for the process-level give-up test: a real actor system
// whose supervisor has a child that always crashes. It must end with
// give_up_exit_code and a log line naming the child; returning from main
// (exit code 0) means the supervisor did not give up.

#include <chrono>
#include <cstdio>
#include <string>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/sec.hpp"

#include "actors/supervisor/supervisor.hpp"
#include "actors/system/system_config.hpp"
#include "logging/logging.hpp"

using namespace istio_csr;
using namespace std::chrono_literals;

namespace {

// Actors take their name as an argument: CAF 0.17 dereferences a null
// pointer when a function-based actor is spawned without arguments (UBSan).

using crash_atom = caf::atom_constant<caf::atom("crash")>;

caf::behavior always_crashing(caf::event_based_actor* self, std::string) {
  self->send(self, crash_atom::value);
  return {[self](crash_atom) {
    self->quit(caf::make_error(caf::sec::runtime_error, "simulated failure"));
  }};
}

caf::behavior steady(caf::event_based_actor*, std::string) {
  return {[](caf::get_atom) { return 0; }};
}

} // namespace

int main() {
  logging::init({});
  actors::system_config cfg;
  caf::actor_system sys{cfg};
  actors::supervisor_options opts;
  opts.name = "probe";
  opts.max_restarts = 3;
  opts.window = 30s;
  opts.backoff.initial = 1ms;
  opts.backoff.max = 10ms;
  std::vector<actors::child_spec> children(2);
  children[0].name = "steady";
  children[0].spawn = [](actors::child_context& ctx) {
    return ctx.system().spawn(steady, ctx.name());
  };
  children[1].name = "always-crashing";
  children[1].spawn = [](actors::child_context& ctx) {
    return ctx.system().spawn(always_crashing, ctx.name());
  };
  auto handle = actors::spawn_supervisor(sys, opts, std::move(children));
  if (!handle) {
    std::fprintf(stderr, "spawn_supervisor failed\n");
    return 2;
  }
  sys.await_all_actors_done();
  return 0;
}
