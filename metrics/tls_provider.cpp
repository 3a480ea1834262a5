#include "metrics/tls_provider.hpp"

#include "metrics/family.hpp"

namespace istio_csr::metrics {

const tls_provider_handles& tls_provider() {
  static const tls_provider_handles instance = [] {
    auto& f = detail::counter_family(
      "cert_manager_istio_csr_tls_provider_certificate_requests",
      "Number of serving certificate requests made by the TLS provider, by "
      "success (1) or failure (0).");
    return tls_provider_handles{detail::add(f, {{"success", "1"}}),
                                detail::add(f, {{"success", "0"}})};
  }();
  return instance;
}

} // namespace istio_csr::metrics
