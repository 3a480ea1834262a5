#include "actors/signing/policy/duration.hpp"

namespace istio_csr::actors::signing::policy {

std::chrono::seconds certificate_duration(std::int64_t validity_seconds,
                                          std::chrono::seconds max) {
  if (validity_seconds <= 0 || validity_seconds > max.count())
    return max;
  return std::chrono::seconds{validity_seconds};
}

} // namespace istio_csr::actors::signing::policy
