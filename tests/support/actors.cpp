#include "tests/support/actors.hpp"

#include "caf/scoped_actor.hpp"
#include "caf/system_messages.hpp"

namespace istio_csr::test {

bool stop_and_wait(caf::actor_system& sys,
                   const std::vector<caf::actor>& actors,
                   caf::exit_reason reason, std::chrono::milliseconds timeout) {
  caf::scoped_actor self{sys};
  std::size_t pending = 0;
  for (const auto& actor : actors)
    if (actor) {
      self->monitor(actor);
      ++pending;
    }
  for (const auto& actor : actors)
    if (actor)
      caf::anon_send_exit(actor, reason);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (; pending > 0; --pending) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    bool down = false;
    self->receive([&](caf::down_msg&) { down = true; },
                  caf::after(std::max(left, std::chrono::milliseconds{0})) >>
                    [] {});
    if (!down)
      return false;
  }
  return true;
}

} // namespace istio_csr::test
