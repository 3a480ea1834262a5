#pragma once

#include "metrics/handles.hpp"

namespace istio_csr::metrics {

/// Upstream's `cert_manager_istio_csr_tls_provider_certificate_requests`
/// (a counter, label `success` "1"/"0"): one per attempt of the serving
/// certificate's request; both series pre-initialised.
struct tls_provider_handles {
  counter succeeded;
  counter failed;
};

const tls_provider_handles& tls_provider();

} // namespace istio_csr::metrics
