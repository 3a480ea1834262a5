#pragma once

#include <functional>
#include <string>
#include <vector>

#include "caf/actor.hpp"
#include "caf/actor_clock.hpp"
#include "caf/error.hpp"
#include "caf/expected.hpp"
#include "caf/fwd.hpp"
#include "caf/timespan.hpp"

#include "introspection/tree.hpp"

namespace istio_csr::actors {

/// A snapshot of the supervision tree below `root` (a supervisor), every
/// node with its path (`introspection::assign_paths`): `root` asks its
/// children (`introspection::introspect_atom`), supervisors ask theirs, and
/// actors that own a supervisor lead to it. Nothing waits longer than
/// `budget`: a node that did not answer in time shows `mailbox` none and
/// "no answer: ..." as its state. `done` runs on `self` (an error only if
/// `root` itself did not answer). Used by the debug endpoint and chaos
/// mode.
void query_tree(
  caf::event_based_actor* self, const caf::actor& root, caf::timespan budget,
  std::function<void(caf::expected<introspection::tree_node>)> done);

/// Ends the actor of `node` (from `query_tree`) as a crash would: with
/// `reason` (an error; `supervisor_errc::killed` when it is none or a
/// normal exit reason), its supervisor restarting it after its backoff,
/// counting the restart and giving up past its intensity. A supervised
/// child is killed through its supervisor (`kill_child_atom`: its running
/// incarnation, `supervisor_errc::no_such_child` while it waits for its
/// restart); a supervisor that is nobody's child (`leader`, `configmap`)
/// directly, its owner reacting as to its crash. `done` runs on `self`
/// with the error, if any. Refusing the root is the caller's business.
void kill_node(caf::event_based_actor* self,
               const introspection::tree_node& node, caf::error reason,
               std::function<void(caf::error)> done);

namespace detail {

/// The supervisor's part of `query_tree`: `children` are its children as
/// it knows them (name, incarnation, restarts, failures, limit, running;
/// `actor` the running incarnation; `state` why one is not running). Asks
/// every running child before `deadline` (on `self`'s clock), follows
/// supervisors a child runs itself, sets `parent` to `self`; `done` gets
/// the nodes in order.
void gather_children(
  caf::event_based_actor* self, std::vector<introspection::tree_node> children,
  caf::actor_clock::time_point deadline,
  std::function<void(std::vector<introspection::tree_node>)> done);

/// Ends `incarnation` as a crash would: an error message, which CAF 0.17
/// hands to the actor's error handler before its behaviour; the default
/// handler (no actor of ours replaces it) terminates the actor with that
/// error. Unlike `exit_reason::kill`, the actors linked to it get a
/// trappable exit message, as after an uncaught exception.
void crash(caf::event_based_actor* self, const caf::actor& incarnation,
           caf::error reason);

} // namespace detail

} // namespace istio_csr::actors
