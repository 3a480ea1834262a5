#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "caf/actor.hpp"
#include "caf/atom.hpp"
#include "caf/fwd.hpp"
#include "caf/meta/type_name.hpp"
#include "caf/timespan.hpp"

#include "actors/chaos/victims.hpp"

namespace istio_csr::config {
struct chaos_options;
} // namespace istio_csr::config

namespace istio_csr::actors::chaos {

/// How chaos mode runs (`--chaos-*`, docs/debugging.md).
struct chaos_settings {
  /// One kill per interval (at least 10 ms on the command line).
  caf::timespan interval = std::chrono::seconds{1};
  /// Seeds the `std::mt19937_64` that picks the victims.
  uint64_t seed = 0;
  victim_filter filter;
  /// How long one look at the tree may take (`query_tree`).
  caf::timespan query_budget = std::chrono::seconds{1};
};

/// The settings of `--chaos-*`; `seed` is the one to use (the given one, or
/// a random one the caller logs).
chaos_settings chaos_settings_from(const config::chaos_options& opts,
                                   uint64_t seed);

using chaos_tick_atom = caf::atom_constant<caf::atom("chaos_tick")>;
using chaos_stats_atom = caf::atom_constant<caf::atom("chaos_stat")>;

/// What chaos mode did so far (`(chaos_stats_atom) -> chaos_stats`).
struct chaos_stats {
  /// Intervals that passed.
  uint64_t ticks = 0;
  /// Intervals skipped because the previous kill was still under way.
  uint64_t skipped = 0;
  /// Intervals without a running actor that the filter allows.
  uint64_t idle = 0;
  uint64_t kills = 0;
  /// Looks at the tree or kills that failed.
  uint64_t failures = 0;
  /// The paths of the last victims (at most 256), oldest first.
  std::vector<std::string> victims;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, chaos_stats& x) {
  return f(caf::meta::type_name("chaos_stats"), x.ticks, x.skipped, x.idle,
           x.kills, x.failures, x.victims);
}

/// Starts chaos mode over the supervision tree of `root`: every `interval`
/// (a timer of delayed messages to itself, no thread), it looks at the tree
/// (`query_tree`), picks one of the `eligible` actors with its seeded
/// generator (`pick`) and kills it as a crash would (`kill_node`, reason
/// `supervisor_errc::killed` "chaos mode"). Each kill is logged (warn,
/// logger "chaos", with the victim's path and incarnation) and counted in
/// `istio_csr_chaos_kills_total{actor}`. The root supervisor is never a
/// victim. While a look or kill is under way, intervals are skipped rather
/// than queued. Stop it with an exit message (before the tree).
caf::actor spawn_chaos_monkey(caf::actor_system& sys, caf::actor root,
                              chaos_settings settings);

} // namespace istio_csr::actors::chaos
