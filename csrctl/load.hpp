#pragma once

#include <iosfwd>

#include "csrctl/options.hpp"

namespace istio_csr::csrctl {

/// `csrctl load`: prepares the identities (service accounts, tokens, keys
/// and CSRs), then calls the agent at `--address` as configured and prints
/// the report: the human summary on `out`, or with `--json` one JSON
/// object. `live_progress`: one updating line per second on `err` (a
/// terminal). SIGINT and SIGTERM end the run early, with the report.
/// Returns the exit status: 0 when every call succeeded, 1 when one did not
/// (or a start was skipped, or no call ended), 2 on bad options or local
/// failures (kubeconfig, files, TokenRequest), 130 when interrupted.
int run_load(const load_options& opts, std::ostream& out, std::ostream& err,
             bool live_progress);

} // namespace istio_csr::csrctl
