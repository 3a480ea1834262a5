#include "actors/supervisor/child_spec.hpp"

#include <cmath>

namespace istio_csr::actors {

std::string to_string(restart_policy x) {
  switch (x) {
    case restart_policy::permanent: return "permanent";
    case restart_policy::transient: return "transient";
    case restart_policy::temporary: return "temporary";
  }
  return "restart_policy(" + std::to_string(static_cast<int>(x)) + ")";
}

caf::timespan backoff_policy::delay(size_t attempt) const {
  if (initial <= caf::timespan::zero() || attempt == 0)
    return caf::timespan::zero();
  // Computed in floating point so that large attempts saturate at `max`
  // instead of overflowing.
  auto factor = std::pow(multiplier < 1.0 ? 1.0 : multiplier,
                         static_cast<double>(attempt - 1));
  auto ns = static_cast<double>(initial.count()) * factor;
  if (!std::isfinite(ns) || ns >= static_cast<double>(max.count()))
    return max;
  return caf::timespan{static_cast<caf::timespan::rep>(ns)};
}

caf::actor child_context::sibling(const std::string& name) const {
  auto i = siblings_->find(name);
  return i != siblings_->end() ? i->second : caf::actor{};
}

} // namespace istio_csr::actors
