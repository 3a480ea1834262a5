#pragma once

// Ending the actors of a test: on a real actor system (stop and wait for
// them) and on CAF's deterministic scheduler (send the exits; the test runs
// the scheduler).

#include <chrono>
#include <vector>

#include "caf/actor.hpp"
#include "caf/actor_cast.hpp"
#include "caf/actor_system.hpp"
#include "caf/exit_reason.hpp"
#include "caf/send.hpp"

namespace istio_csr::test {

/// Sends `reason` to each of `actors` (invalid handles are skipped) and
/// waits until all of them are down, watched with a monitor (an exit message
/// removes a link, see DEVELOPERS.md). False if one is not down within
/// `timeout`. Blocks: call from the test thread of a real actor system.
bool stop_and_wait(caf::actor_system& sys,
                   const std::vector<caf::actor>& actors,
                   caf::exit_reason reason, std::chrono::milliseconds timeout);

/// `stop_and_wait` of one actor.
inline bool stop_and_wait(caf::actor_system& sys, const caf::actor& actor,
                          caf::exit_reason reason,
                          std::chrono::milliseconds timeout) {
  return stop_and_wait(sys, std::vector<caf::actor>{actor}, reason, timeout);
}

/// Sends `reason` to every actor of `handles`: handles of any type, or
/// vectors of them (invalid ones are skipped). The end of a test on the
/// deterministic scheduler: the fixture runs it afterwards (`sched.run()`)
/// so that no actor outlives the test.
template <class... Handles>
void send_exit_to_all(caf::exit_reason reason, const Handles&... handles);

namespace detail {

template <class Handle>
void send_exit_to(caf::exit_reason reason, const Handle& handle) {
  if (handle)
    caf::anon_send_exit(caf::actor_cast<caf::actor>(handle), reason);
}

template <class Handle>
void send_exit_to(caf::exit_reason reason, const std::vector<Handle>& handles) {
  for (const auto& handle : handles)
    send_exit_to(reason, handle);
}

} // namespace detail

template <class... Handles>
void send_exit_to_all(caf::exit_reason reason, const Handles&... handles) {
  (detail::send_exit_to(reason, handles), ...);
}

} // namespace istio_csr::test
