#pragma once

// Internal to metrics/: building families in the registry.

#include <map>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include "metrics/handles.hpp"
#include "metrics/registry.hpp"

namespace istio_csr::metrics::detail {

using labels = std::map<std::string, std::string>;

prometheus::Family<prometheus::Counter>&
counter_family(const std::string& name, const std::string& help);

prometheus::Family<prometheus::Gauge>& gauge_family(const std::string& name,
                                                    const std::string& help);

prometheus::Family<prometheus::Histogram>&
histogram_family(const std::string& name, const std::string& help);

inline counter add(prometheus::Family<prometheus::Counter>& f,
                   const labels& l = {}) {
  return counter{&f.Add(l)};
}

inline gauge add(prometheus::Family<prometheus::Gauge>& f,
                 const labels& l = {}) {
  return gauge{&f.Add(l)};
}

inline histogram add(prometheus::Family<prometheus::Histogram>& f,
                     const labels& l, const std::vector<double>& bounds) {
  return histogram{&f.Add(l, prometheus::Histogram::BucketBoundaries{bounds})};
}

} // namespace istio_csr::metrics::detail
