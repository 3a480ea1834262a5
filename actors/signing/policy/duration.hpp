#pragma once

#include <chrono>
#include <cstdint>

namespace istio_csr::actors::signing::policy {

/// The duration to request for a workload certificate (docs/upstream.md §2.6):
/// `min(validity_seconds, max)`.
///
/// Deviation from upstream, on purpose: a `validity_seconds` ≤ 0 means "not
/// given" and yields `max` (upstream passes 0 or a negative duration through
/// to the CertificateRequest; istiod itself uses its default TTL for ≤ 0).
/// The comparison is done in seconds, so huge values cannot overflow (Go's
/// `time.Duration(v) * time.Second` wraps for v > ~9.2e9).
std::chrono::seconds certificate_duration(std::int64_t validity_seconds,
                                          std::chrono::seconds max);

} // namespace istio_csr::actors::signing::policy
