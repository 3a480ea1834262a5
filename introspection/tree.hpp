#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "caf/actor.hpp"
#include "caf/allowed_unsafe_message_type.hpp"

namespace istio_csr::introspection {

/// One actor of the supervision tree, as `GET /debug/actors` shows it
/// (docs/debugging.md). A snapshot: built from the answers of the actors
/// themselves, each at its own moment.
struct tree_node {
  /// The child's name in its supervisor (`csr-signer-0`,
  /// `configmap/default`), or the name of a supervisor that is nobody's
  /// child (`root`, `leader`, `configmap`).
  std::string name;
  /// The names from the root down to this one, joined by '/'
  /// (`root/csr-signer-0`); set by `assign_paths`.
  std::string path;
  /// How often it was started: 1 after the first start, one more per
  /// restart; 0 when it never started.
  uint64_t incarnation = 0;
  /// Restarts by its supervisor so far (whether they succeeded or not).
  uint64_t restarts = 0;
  /// Its failures within its supervisor's intensity window, and how many
  /// that supervisor tolerates there: one failure more than
  /// `max_restarts` makes it give up. Both 0 for a supervisor that is
  /// nobody's child.
  uint64_t recent_failures = 0;
  uint64_t max_restarts = 0;
  /// Whether an incarnation runs (false while it waits for its restart).
  bool running = false;
  /// Whether it is a supervisor.
  bool supervisor = false;
  /// Messages waiting in its mailbox when it answered; none when it is not
  /// running or did not answer within the deadline.
  std::optional<uint64_t> mailbox;
  /// A short summary by the actor itself, or why there is none.
  std::string state;
  /// Supervisors: their children, in start order. An actor that owns a
  /// supervisor (leader-election, namespace-watcher): that supervisor.
  std::vector<tree_node> children;
  /// The incarnation seen (the target of a kill when `parent` is invalid).
  caf::actor actor;
  /// The supervisor of a supervised child (kills go through it); invalid
  /// for a supervisor that is nobody's child.
  caf::actor parent;
};

/// Sets `path` of `node` (`prefix/name`, or `name` without a prefix) and of
/// everything below it.
void assign_paths(tree_node& node, const std::string& prefix = {});

/// The node whose `path` is `path` (after `assign_paths`), depth first;
/// nullptr when there is none.
const tree_node* find_path(const tree_node& root, std::string_view path);

/// Calls `f` for `root` and every node below it, parents first, children
/// in order.
void for_each_node(const tree_node& root,
                   const std::function<void(const tree_node&)>& f);

} // namespace istio_csr::introspection

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(istio_csr::introspection::tree_node)
