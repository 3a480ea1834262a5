#pragma once

#include <string>

namespace prometheus {
class Registry;
} // namespace prometheus

namespace istio_csr::metrics {

/// The process-wide registry every family of istio-csr lives in (as
/// client_golang's default registerer upstream). Families are created on
/// first use and live as long as the process; series handles
/// (`metrics/handles.hpp`) stay valid.
prometheus::Registry& registry();

/// Every family in the Prometheus text format (0.0.4), the `process_*`
/// families included: what `/metrics` answers. Registers the families
/// that are pre-initialised (so their series exist before the first
/// event). Thread-safe.
std::string scrape();

/// The content type of `scrape()`'s text.
inline constexpr const char* text_content_type
  = "text/plain; version=0.0.4; charset=utf-8";

} // namespace istio_csr::metrics
