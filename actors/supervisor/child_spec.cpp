#include "actors/supervisor/child_spec.hpp"

namespace istio_csr::actors {

std::string to_string(restart_policy x) {
  switch (x) {
    case restart_policy::permanent: return "permanent";
    case restart_policy::transient: return "transient";
    case restart_policy::temporary: return "temporary";
  }
  return "restart_policy(" + std::to_string(static_cast<int>(x)) + ")";
}

caf::actor child_context::sibling(const std::string& name) const {
  auto i = siblings_->find(name);
  return i != siblings_->end() ? i->second : caf::actor{};
}

} // namespace istio_csr::actors
