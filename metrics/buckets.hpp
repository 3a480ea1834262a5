#pragma once

#include <vector>

namespace istio_csr::metrics::buckets {

/// Prometheus' DefBuckets (client_golang), as go-grpc-middleware's
/// handling-time histogram uses them.
inline const std::vector<double> default_seconds{.005, .01, .025, .05, .1, .25,
                                                 .5,   1,   2.5,  5,   10};

/// controller-runtime's `controller_runtime_reconcile_time_seconds`.
inline const std::vector<double> reconcile_seconds{
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3,  0.35,
  0.4,   0.45, 0.5,   0.6,  0.7, 0.8,  0.9, 1.0,  1.25, 1.5,
  1.75,  2.0,  2.5,   3.0,  3.5, 4.0,  4.5, 5,    6,    7,
  8,     9,    10,    15,   20,  25,   30,  40,   50,   60};

/// client-go's workqueue durations: ExponentialBuckets(10e-9, 10, 12).
inline const std::vector<double> workqueue_seconds{
  1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10, 100, 1000};

/// component-base's `rest_client_request_duration_seconds`.
inline const std::vector<double> rest_client_seconds{
  0.005, 0.025, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0};

/// Ours for waits on the issuer (seconds to minutes).
inline const std::vector<double> issuer_wait_seconds{
  .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300};

} // namespace istio_csr::metrics::buckets
