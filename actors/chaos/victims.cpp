#include "actors/chaos/victims.hpp"

#include <algorithm>
#include <limits>

#include "config/glob.hpp"

namespace istio_csr::actors::chaos {

namespace {

bool matches(const victim_filter& filter, const introspection::tree_node& n) {
  if (filter.patterns.empty())
    return true;
  return std::any_of(filter.patterns.begin(), filter.patterns.end(),
                     [&n](const std::string& pattern) {
                       return config::glob_matches(pattern, n.path)
                              || config::glob_matches(pattern, n.name);
                     });
}

/// Whether one more failure of `n`, a supervised child, makes its
/// supervisor give up.
bool at_limit(const introspection::tree_node& n) {
  return n.parent && n.recent_failures >= n.max_restarts;
}

/// Adds the eligible nodes below `parent`.
void collect(const introspection::tree_node& parent,
             const victim_filter& filter,
             std::vector<const introspection::tree_node*>& out) {
  for (const auto& n : parent.children) {
    // Killing a supervisor that is nobody's child fails its owner.
    const auto& counted = n.parent ? n : parent;
    if (n.running && (!n.supervisor || filter.include_supervisors)
        && matches(filter, n) && (filter.allow_give_up || !at_limit(counted)))
      out.push_back(&n);
    collect(n, filter, out);
  }
}

} // namespace

std::vector<const introspection::tree_node*>
eligible(const introspection::tree_node& tree, const victim_filter& filter) {
  std::vector<const introspection::tree_node*> result;
  collect(tree, filter, result);
  std::sort(result.begin(), result.end(),
            [](auto* a, auto* b) { return a->path < b->path; });
  return result;
}

std::size_t pick(std::mt19937_64& rng, std::size_t n) {
  using value = std::mt19937_64::result_type;
  // The largest multiple of n that fits: draws at or above it would favour
  // the small numbers.
  auto count = static_cast<value>(n);
  auto limit = std::numeric_limits<value>::max()
               - std::numeric_limits<value>::max() % count;
  value x;
  do {
    x = rng();
  } while (x >= limit);
  return static_cast<std::size_t>(x % count);
}

} // namespace istio_csr::actors::chaos
