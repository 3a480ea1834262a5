// The example of actors/supervisor/supervisor.hpp, verbatim in a function:
// it compiles and does what it says.

#define CAF_SUITE actors.supervisor_example

#include "caf/test/unit_test.hpp"

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/exit_reason.hpp"
#include "caf/scoped_actor.hpp"
#include "caf/send.hpp"

#include "actors/supervisor/supervisor.hpp"
#include "actors/system/system_config.hpp"

using namespace istio_csr;

namespace {

int doubled = 0;

void example() {
  // -- from supervisor.hpp ------------------------------------------------
  actors::system_config cfg;
  caf::actor_system sys{cfg};
  std::vector<actors::child_spec> children;
  children.emplace_back("doubler", [](actors::child_context& ctx) {
    // An argument besides the function: see DEVELOPERS.md, pitfalls.
    return ctx.system().spawn(
      [](caf::event_based_actor*, int) -> caf::behavior {
        return {[](int x) { return 2 * x; }};
      },
      0);
  });
  auto sup = actors::spawn_supervisor(sys, {}, std::move(children));
  if (!sup)
    return; // sup.error(): invalid_spec, duplicate_child, ...
  caf::actor doubler = sup->child("doubler"); // a stable handle
  // -- end ------------------------------------------------------------------
  {
    caf::scoped_actor self{sys};
    self->request(doubler, caf::infinite, 21)
      .receive([](int x) { doubled = x; }, [](caf::error&) {});
  }
  // -- from supervisor.hpp ------------------------------------------------
  // ... on SIGTERM:
  caf::anon_send_exit(sup->supervisor, caf::exit_reason::user_shutdown);
  sys.await_all_actors_done();
  // -- end ------------------------------------------------------------------
}

} // namespace

CAF_TEST(the documented example runs) {
  example();
  CAF_CHECK_EQUAL(doubled, 42);
}
