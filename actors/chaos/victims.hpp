#pragma once

#include <cstddef>
#include <random>
#include <string>
#include <vector>

#include "introspection/tree.hpp"

namespace istio_csr::actors::chaos {

/// Which actors chaos mode may kill (`--chaos-actors`,
/// `--chaos-include-supervisors`).
struct victim_filter {
  /// Shell patterns (`config::validate_glob`), matched against a node's
  /// path and its name; empty: every actor.
  std::vector<std::string> patterns;
  /// Whether supervisors may be killed (the root never is).
  bool include_supervisors = false;
  /// Whether an actor may be killed when that makes its supervisor give up
  /// (it failed `max_restarts` times within the window already): the
  /// supervisor then stops its children and escalates, up to the root,
  /// which ends the process (exit code 70). Off: such actors are spared
  /// until their failures fall out of the window.
  bool allow_give_up = false;
};

/// The nodes of `tree` that chaos mode may kill now: running, not the root,
/// not a supervisor unless `filter` includes them, matching a pattern, and
/// (unless `allow_give_up`) not at its supervisor's limit (for a
/// supervisor that is nobody's child: its owner's limit, as its owner fails
/// with it); sorted by path, so that the choice depends only on the tree
/// and the random numbers.
std::vector<const introspection::tree_node*>
eligible(const introspection::tree_node& tree, const victim_filter& filter);

/// A number in [0, n) (n > 0) from `rng`: the same on every platform and
/// standard library for the same seed (rejection sampling on the raw
/// output, which the standard fixes for `mt19937_64`; the algorithm of
/// `uniform_int_distribution` is left to each library).
std::size_t pick(std::mt19937_64& rng, std::size_t n);

} // namespace istio_csr::actors::chaos
