#include "actors/chaos/chaos_monkey.hpp"

#include <random>
#include <utility>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"

#include "actors/supervisor/errors.hpp"
#include "actors/supervisor/tree.hpp"
#include "config/options.hpp"
#include "errors/describe.hpp"
#include "logging/logging.hpp"
#include "metrics/istio_csr.hpp"

namespace istio_csr::actors::chaos {

namespace {

constexpr size_t max_victims = 256;

struct monkey_state {
  chaos_settings settings;
  caf::actor root;
  std::mt19937_64 rng;
  /// A look at the tree or a kill is under way.
  bool busy = false;
  chaos_stats stats;
  std::shared_ptr<spdlog::logger> log;

  static inline const char* name = "chaos-monkey";
};

using monkey_actor = caf::stateful_actor<monkey_state>;

void done(monkey_actor* self, bool failed) {
  auto& st = self->state;
  st.busy = false;
  if (failed)
    ++st.stats.failures;
}

void kill_one(monkey_actor* self, const introspection::tree_node& tree) {
  auto& st = self->state;
  auto candidates = eligible(tree, st.settings.filter);
  if (candidates.empty()) {
    ++st.stats.idle;
    logging::debug(*st.log, "chaos mode: no actor to kill");
    done(self, false);
    return;
  }
  const auto& victim = *candidates[pick(st.rng, candidates.size())];
  logging::warn(*st.log, "chaos mode: killing actor",
                {{"actor", victim.path},
                 {"incarnation", std::to_string(victim.incarnation)}});
  auto path = victim.path;
  auto name = victim.name;
  kill_node(self, victim, make_error(supervisor_errc::killed, "chaos mode"),
            [self, path, name](caf::error err) {
              auto& st = self->state;
              if (err) {
                logging::warn(
                  *st.log, "chaos mode: kill failed",
                  {{"actor", path}, {"err", errors::describe(err)}});
                done(self, true);
                return;
              }
              ++st.stats.kills;
              if (st.stats.victims.size() == max_victims)
                st.stats.victims.erase(st.stats.victims.begin());
              st.stats.victims.push_back(path);
              metrics::ours().chaos_kills(name).inc();
              done(self, false);
            });
}

caf::behavior monkey_impl(monkey_actor* self, caf::actor root,
                          chaos_settings settings) {
  auto& st = self->state;
  st.settings = std::move(settings);
  st.root = std::move(root);
  st.rng.seed(st.settings.seed);
  st.log = logging::get("chaos");
  self->delayed_send(self, st.settings.interval, chaos_tick_atom::value);
  return {
    [self](chaos_tick_atom) {
      auto& st = self->state;
      // A fixed rate: the next interval starts now, whatever this one takes.
      self->delayed_send(self, st.settings.interval, chaos_tick_atom::value);
      ++st.stats.ticks;
      if (st.busy) {
        ++st.stats.skipped;
        return;
      }
      st.busy = true;
      query_tree(self, st.root, st.settings.query_budget,
                 [self](caf::expected<introspection::tree_node> tree) {
                   if (!tree) {
                     logging::warn(*self->state.log,
                                   "chaos mode: cannot read the actor tree",
                                   {{"err", errors::describe(tree.error())}});
                     done(self, true);
                     return;
                   }
                   kill_one(self, *tree);
                 });
    },
    [self](chaos_stats_atom) { return self->state.stats; },
  };
}

} // namespace

chaos_settings chaos_settings_from(const config::chaos_options& opts,
                                   uint64_t seed) {
  chaos_settings s;
  s.interval = std::chrono::duration_cast<caf::timespan>(opts.kill_interval);
  s.seed = seed;
  s.filter.patterns = opts.actors;
  s.filter.include_supervisors = opts.include_supervisors;
  s.filter.allow_give_up = opts.allow_give_up;
  return s;
}

caf::actor spawn_chaos_monkey(caf::actor_system& sys, caf::actor root,
                              chaos_settings settings) {
  return sys.spawn(monkey_impl, std::move(root), std::move(settings));
}

} // namespace istio_csr::actors::chaos
