#pragma once

#include <vector>

#include <prometheus/metric_family.h>

namespace istio_csr::metrics {

/// Prometheus' standard process collector, read from /proc at each scrape:
/// `process_cpu_seconds_total`, `process_resident_memory_bytes`,
/// `process_virtual_memory_bytes`, `process_open_fds`, `process_max_fds`,
/// `process_start_time_seconds`. A value that cannot be read is left out.
std::vector<prometheus::MetricFamily> collect_process();

} // namespace istio_csr::metrics
