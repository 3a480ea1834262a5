#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "csrctl/async_calls.hpp"
#include "csrctl/load_report.hpp"

namespace istio_csr::csrctl {

/// How a load run proceeds.
struct load_plan {
  /// Connections of the `async_calls`: closed-loop caller i uses
  /// connection i mod `connections`; with a rate, call k uses k mod it.
  size_t connections = 1;
  /// Requests of the `async_calls`: call k sends request k mod `requests`.
  size_t requests = 1;
  /// Calls started per second, on a fixed schedule whatever the answers
  /// (open loop; at most `slots()` in flight, a start due while every slot
  /// is busy is skipped). 0: closed loop, each of the `slots()` callers
  /// starts its next call when its last one ended.
  double rate = 0;
  /// Calls to start (with a rate: starts due, skipped ones included).
  std::optional<uint64_t> count;
  /// No call starts after this; the calls started run to their end,
  /// retries included (as istio-agent's would).
  std::optional<std::chrono::nanoseconds> duration;
  /// Deadline of each attempt.
  std::chrono::milliseconds timeout{30000};
  /// istio-agent's retry policy (csrctl/agent_retry.hpp); else one attempt.
  bool retry = true;
  /// Seeds the retry jitter.
  uint64_t seed = 0;
  /// How often `progress` is called.
  std::chrono::milliseconds progress_interval{1000};
};

/// Where a run is, for a live progress line.
struct load_progress {
  std::chrono::nanoseconds elapsed{0};
  uint64_t total = 0;
  uint64_t ok = 0;
  uint64_t retries = 0;
  size_t in_flight = 0; ///< calls started that have not ended
};

/// Checks the chain of a successful attempt of request `request`: empty
/// when good, else why not.
using load_verifier
  = std::function<std::string(size_t request, const ca_result& result)>;

using load_progress_handler = std::function<void(const load_progress&)>;

/// Runs `plan` on `calls` until it is done (count reached or duration over,
/// and every call ended) or `stop` is set: then attempts in flight are
/// cancelled and, with the calls waiting to retry, counted as abandoned.
/// The report's settings are left to the caller. `verify` (optional) checks
/// each answer; `progress` (optional) is called every
/// `plan.progress_interval`.
load_report drive_load(async_calls& calls, const load_plan& plan,
                       const std::atomic<bool>& stop,
                       const load_verifier& verify = {},
                       const load_progress_handler& progress = {});

} // namespace istio_csr::csrctl
