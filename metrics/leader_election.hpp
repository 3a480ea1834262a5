#pragma once

#include "metrics/handles.hpp"

namespace istio_csr::metrics {

/// client-go's `leader_election_master_status{name="istio-csr"}`: 1 while
/// this replica leads, else 0 (pre-initialised to 0).
const gauge& leader_election();

} // namespace istio_csr::metrics
