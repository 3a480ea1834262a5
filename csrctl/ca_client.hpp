#pragma once

#include <memory>
#include <vector>

#include "csrctl/async_calls.hpp"
#include "csrctl/ca_call.hpp"

namespace istio_csr::csrctl {

/// CreateCertificate calls over grpc++ (one completion queue, driven by the
/// thread that calls `next`): `connections` channels to `target`, each its
/// own HTTP/2 connection (distinct channel arguments and a local subchannel
/// pool, so that no two share a subchannel), `slots` calls in flight at
/// most, and the `requests` that attempts send, each prepared once (its
/// message and headers).
std::unique_ptr<async_calls> make_ca_client(const ca_target& target,
                                            std::vector<ca_request> requests,
                                            size_t connections, size_t slots);

} // namespace istio_csr::csrctl
