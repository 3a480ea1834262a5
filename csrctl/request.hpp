#pragma once

#include <iosfwd>

#include "csrctl/options.hpp"

namespace istio_csr::csrctl {

/// `csrctl request`: mints or reads a token, makes a key and CSR like
/// istio-agent, calls the agent and prints the chain. Returns the exit
/// status: 0 on success, 1 when the call fails (`error: CODE: message` on
/// `err`) or the chain is unusable, 2 on bad options or local failures
/// (kubeconfig, files, TokenRequest).
int run_request(const request_options& opts, std::ostream& out,
                std::ostream& err);

} // namespace istio_csr::csrctl
