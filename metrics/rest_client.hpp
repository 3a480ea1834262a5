#pragma once

#include <string_view>

namespace istio_csr::metrics {

/// Records one request to the Kubernetes API server, as client-go does
/// (one per HTTP attempt, watches included):
/// `rest_client_requests_total{code,method,host}` (`code` the HTTP status,
/// or "<error>" when no response came: `status` <= 0) and
/// `rest_client_request_duration_seconds{verb,host}`. `host` is
/// `host:port` of the API server; `method` the HTTP method. The label sets
/// are bounded (a few methods, codes and one or two hosts); each thread
/// caches the series it used, so only a new label set takes a lock.
void rest_client_request(std::string_view method, int status,
                         std::string_view host, double seconds);

} // namespace istio_csr::metrics
