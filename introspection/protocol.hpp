#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "caf/actor.hpp"
#include "caf/allowed_unsafe_message_type.hpp"
#include "caf/atom.hpp"
#include "caf/fwd.hpp"

#include "introspection/tree.hpp"

namespace istio_csr::introspection {

/// `(introspect_atom, caf::timespan budget) -> actor_info`: what an actor
/// says about itself, for the debug endpoint and chaos mode
/// (docs/debugging.md). Every actor of the supervision tree answers it:
/// supervisors in their behaviour (with their children, asked within
/// `budget`), the others through `enable`. It is an ordinary message,
/// answered in mailbox order: an actor that is busy or stuck answers late
/// or not at all, never blocking the one that asks.
using introspect_atom = caf::atom_constant<caf::atom("introspect")>;

/// The answer to `introspect_atom`.
struct actor_info {
  /// Supervisors: their name (`supervisor_options::name`); else empty.
  std::string name;
  /// Messages waiting in the actor's mailbox when it answered, a lower
  /// bound (`mailbox_size`).
  uint64_t mailbox = 0;
  /// A short summary, e.g. "3 requests in flight" (a few words, never a
  /// secret).
  std::string state;
  /// Whether the actor is a supervisor; then `children` are its children.
  bool supervisor = false;
  std::vector<tree_node> children;
  /// A supervisor the actor runs itself, outside any child list (the
  /// leader supervisor of leader-election, the configmap supervisor of the
  /// namespace watcher); invalid when none runs.
  caf::actor owned_supervisor;
  /// Its name (`supervisor_options::name`).
  std::string owned_name;
  /// How many supervisors the actor started so far, this one included.
  uint64_t owned_starts = 0;
};

/// What an ordinary actor reports besides its mailbox.
struct report {
  report() = default;

  /// Only a state (the common case).
  report(std::string state) : state(std::move(state)) {
    // nop
  }

  std::string state;
  caf::actor owned_supervisor;
  std::string owned_name;
  uint64_t owned_starts = 0;
};

/// Called on the actor's own thread, inside its handler: read the state
/// freely, but do not block.
using reporter = std::function<report()>;

/// Makes `self` answer `(introspect_atom, caf::timespan)` with its mailbox
/// size and `fn()`. Call once, when the actor starts (before its first
/// message). It installs `self`'s default handler (the handler of messages
/// its behaviour does not match); every other unmatched message is treated
/// as CAF's default does (`caf::print_and_drop`). An actor that needs a
/// default handler of its own must answer `introspect_atom` itself.
void enable(caf::scheduled_actor* self, reporter fn);

/// The messages waiting in `self`'s mailbox, as far as `self` has taken
/// them in: CAF 0.17 moves new arrivals from the shared inbox (a lock-free
/// stack) into the actor's own queue at the start of each round of
/// messages, and this counts that queue. Messages that arrived during the
/// current round are not counted yet, so it is a lower bound. The queue
/// belongs to the actor: call this only from one of `self`'s handlers (no
/// other thread may read it).
uint64_t mailbox_size(caf::scheduled_actor* self);

} // namespace istio_csr::introspection

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(istio_csr::introspection::actor_info)
