#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>

#include "caf/actor.hpp"
#include "caf/actor_cast.hpp"
#include "caf/allowed_unsafe_message_type.hpp"
#include "caf/fwd.hpp"
#include "caf/timespan.hpp"

#include "retry/backoff.hpp"

namespace istio_csr::actors {

/// When a supervisor restarts a child that terminated (after Erlang/OTP).
enum class restart_policy {
  /// Restart on any exit, normal or not.
  permanent,
  /// Restart only on an abnormal exit: any reason other than
  /// `exit_reason::normal` and `exit_reason::user_shutdown`.
  transient,
  /// Never restart.
  temporary,
};

/// Returns "permanent", "transient" or "temporary".
std::string to_string(restart_policy x);

/// Exponential backoff between a child's failure and its restart: the
/// project's one backoff (retry/backoff.hpp). The attempt is the number of
/// the child's failures within the intensity window; defaults 100 ms
/// doubling to 30 s, no jitter.
using backoff_policy = retry::backoff;

/// What a child's spawn function gets from its supervisor.
class child_context {
 public:
  using registry = std::unordered_map<std::string, caf::actor>;

  child_context(caf::actor_system& sys, const std::string& name,
                size_t restarts, caf::actor supervisor,
                const registry& siblings) noexcept
    : sys_(&sys), name_(&name), restarts_(restarts),
      supervisor_(std::move(supervisor)), siblings_(&siblings) {
    // nop
  }

  /// The actor system to spawn into.
  caf::actor_system& system() const noexcept {
    return *sys_;
  }

  /// The child's name.
  const std::string& name() const noexcept {
    return *name_;
  }

  /// How often this child has been restarted before (0 on its first start).
  size_t restarts() const noexcept {
    return restarts_;
  }

  /// The supervisor starting this child.
  const caf::actor& supervisor() const noexcept {
    return supervisor_;
  }

  /// The stable handle of the sibling `name` (also of this child itself), or
  /// an invalid handle if the supervisor has no such child. Stable handles
  /// stay valid across restarts: hold them, never an incarnation's handle.
  caf::actor sibling(const std::string& name) const;

  /// `sibling(name)` as the typed handle of the sibling's protocol (the
  /// stable handle forwards whatever it is sent).
  template <class Handle>
  Handle sibling_as(const std::string& name) const {
    return caf::actor_cast<Handle>(sibling(name));
  }

 private:
  caf::actor_system* sys_;
  const std::string* name_;
  size_t restarts_;
  caf::actor supervisor_;
  const registry* siblings_;
};

/// Spawns one incarnation of a child. Returns an invalid handle or throws to
/// signal a failed start, which counts as a failure of the child (it is
/// retried with backoff). The function must not block.
using spawn_function = std::function<caf::actor(child_context&)>;

/// How a supervisor starts and restarts one child.
struct child_spec {
  child_spec() = default;

  /// `{"name", spawn}` or `{"name", spawn, restart_policy::transient}`.
  child_spec(std::string name, spawn_function spawn,
             restart_policy restart = restart_policy::permanent)
    : name(std::move(name)), spawn(std::move(spawn)), restart(restart) {
    // nop
  }

  /// Unique among the supervisor's children; used in logs and lookups.
  std::string name;
  /// Creates a new incarnation.
  spawn_function spawn;
  /// When to restart the child.
  restart_policy restart = restart_policy::permanent;
  /// Overrides the supervisor's backoff for this child.
  std::optional<backoff_policy> backoff;
  /// How long an orderly stop (`exit_reason::user_shutdown`) may take
  /// before the supervisor kills the incarnation (`exit_reason::kill`).
  caf::timespan shutdown_timeout = std::chrono::seconds(5);
};

} // namespace istio_csr::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(istio_csr::actors::child_spec)
