#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "caf/actor.hpp"
#include "caf/atom.hpp"
#include "caf/expected.hpp"
#include "caf/fwd.hpp"
#include "caf/meta/type_name.hpp"
#include "caf/timespan.hpp"

#include "actors/supervisor/child_spec.hpp"
#include "actors/supervisor/errors.hpp"

namespace istio_csr::actors {

/// Exit code of the process when a supervisor with the default give-up
/// action gives up (EX_SOFTWARE from sysexits.h).
constexpr int give_up_exit_code = 70;

/// What a supervisor reports when it gives up.
struct give_up_report {
  std::string supervisor;
  std::string child;
  /// Failures of `child` within `window`, including the last one.
  size_t failures = 0;
  caf::timespan window{0};
  /// The rendered exit reason of the last failure.
  std::string reason;
};

/// Called once a supervisor that gave up has stopped all its children;
/// afterwards the supervisor terminates with `supervisor_errc::gave_up`.
using give_up_action = std::function<void(const give_up_report&)>;

/// The default give-up action: flushes the logs and ends the process with
/// `give_up_exit_code` (`std::_Exit`: other threads may still run actors, so
/// static destructors must not run).
[[noreturn]] void exit_process(const give_up_report& report);

/// The give-up action of nested supervisors: does nothing, so that the
/// supervisor's termination (`supervisor_errc::gave_up`) is a failure of a
/// child of its parent, which restarts it or gives up in turn.
void escalate(const give_up_report& report);

/// Parameters of a supervisor.
struct supervisor_options {
  /// Used in logs.
  std::string name = "supervisor";
  /// Intensity: the supervisor gives up when one child fails more than
  /// `max_restarts` times within `window`.
  size_t max_restarts = 5;
  caf::timespan window = std::chrono::seconds(60);
  /// Default backoff of the children. The attempt number is the number of
  /// the child's failures within `window`, so the delay grows while the
  /// child keeps failing and falls back once it ran for a whole window.
  backoff_policy backoff;
  give_up_action on_give_up = exit_process;
};

/// A running supervisor and the stable handles of its initial children.
struct supervisor_handle {
  caf::actor supervisor;
  std::unordered_map<std::string, caf::actor> children;

  /// The stable handle of `name`, or an invalid handle.
  caf::actor child(const std::string& name) const;
};

/// Starts a supervisor and its children in the order of `children`.
///
/// The supervisor monitors every child incarnation and restarts only the
/// child that terminated, according to its `restart_policy`, after an
/// exponential backoff; each restart is logged (warn) with the child's name,
/// the exit reason, the attempt and the delay. When one child fails more than
/// `max_restarts` times within `window`, the supervisor logs an error naming
/// the child, stops all children in reverse start order, calls
/// `on_give_up` and terminates with `supervisor_errc::gave_up`.
///
/// Children reach each other through stable handles (see `spawn_proxy`):
/// returned here, given to spawn functions by `child_context::sibling`, and
/// answered to `get_child_atom`. A stable handle stays valid across restarts
/// and buffers messages while its child is down.
///
/// An exit message with a reason other than `exit_reason::normal` (e.g.
/// `anon_send_exit(sup, exit_reason::user_shutdown)`) shuts the supervisor
/// down in order: each child, last started first, gets
/// `exit_reason::user_shutdown` and is waited for (at most its
/// `shutdown_timeout`, then it is killed) before the next; then the
/// supervisor terminates with the exit message's reason. If the supervisor is
/// killed instead, it kills its remaining children.
///
/// Messages (all requests):
/// - `(add_child_atom, child_spec) -> caf::actor`: adds and starts a child at
///   runtime, returns its stable handle. Errors: `duplicate_child`,
///   `invalid_spec`, `shutting_down`.
/// - `(remove_child_atom, std::string) -> void`: stops a child (like a
///   shutdown) and forgets it; answers once it is stopped. Error:
///   `no_such_child`.
/// - `(get_child_atom, std::string) -> caf::actor`: a stable handle.
/// - `(kill_child_atom, std::string, caf::error reason) -> void`: ends the
///   child's current incarnation with `reason` (`supervisor_errc::killed`
///   if it is none or a normal exit reason), exactly as if it had crashed:
///   the incarnation gets the error as a message (`detail::crash` in
///   tree.hpp), terminates with it, and this supervisor sees its down
///   message like any other failure (restart policy, backoff, the restart
///   metric, giving up). `no_such_child` when it has no running
///   incarnation. For the debug endpoint, chaos mode and tests.
/// - `(child_status_atom, std::string) -> child_status`,
///   `(child_status_atom) -> std::vector<child_status>`.
/// - `(introspection::introspect_atom, caf::timespan budget) ->
///   introspection::actor_info`: this supervisor (name, mailbox, "N of M
///   children running") and a node per child, each child asked within 3/4
///   of `budget` (see `query_tree` in tree.hpp).
///
/// Returns `invalid_spec` or `duplicate_child` if `children` is malformed.
///
/// Example (tests/actors/supervisor/supervisor_example_test.cpp compiles and
/// runs it):
///
///     actors::system_config cfg;
///     caf::actor_system sys{cfg};
///     std::vector<actors::child_spec> children;
///     children.emplace_back("doubler", [](actors::child_context& ctx) {
///       // An argument besides the function: see DEVELOPERS.md, pitfalls.
///       return ctx.system().spawn(
///         [](caf::event_based_actor*, int) -> caf::behavior {
///           return {[](int x) { return 2 * x; }};
///         },
///         0);
///     });
///     auto sup = actors::spawn_supervisor(sys, {}, std::move(children));
///     if (!sup)
///       return; // sup.error(): invalid_spec, duplicate_child, ...
///     caf::actor doubler = sup->child("doubler"); // a stable handle
///     // ... on SIGTERM:
///     caf::anon_send_exit(sup->supervisor, caf::exit_reason::user_shutdown);
///     sys.await_all_actors_done();
caf::expected<supervisor_handle>
spawn_supervisor(caf::actor_system& sys, supervisor_options options,
                 std::vector<child_spec> children);

using add_child_atom = caf::atom_constant<caf::atom("addchild")>;
using remove_child_atom = caf::atom_constant<caf::atom("rmchild")>;
using get_child_atom = caf::atom_constant<caf::atom("getchild")>;
using child_status_atom = caf::atom_constant<caf::atom("childstat")>;
using kill_child_atom = caf::atom_constant<caf::atom("killchild")>;

/// A snapshot of one child.
struct child_status {
  std::string name;
  /// Whether an incarnation is running (false while waiting for a restart).
  bool running = false;
  /// Restarts so far (successful or not), not counting the first start.
  size_t restarts = 0;
  /// Failures within the current intensity window.
  size_t recent_failures = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, child_status& x) {
  return f(caf::meta::type_name("child_status"), x.name, x.running, x.restarts,
           x.recent_failures);
}

} // namespace istio_csr::actors
