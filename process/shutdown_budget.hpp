#pragma once

#include <algorithm>
#include <chrono>

namespace istio_csr::process {

/// How a shutdown spends its grace period (`--shutdown-grace-period`),
/// counted from the signal. The Lease release runs beside the drain.
struct shutdown_budget {
  /// The longest drain of gRPC calls in flight.
  static constexpr std::chrono::milliseconds max_drain{15000};

  /// Calls in flight may finish for min(15 s, 60 % of the grace period);
  /// then they are cancelled.
  std::chrono::milliseconds drain;
  /// The actors stop by then (90 %); what is left is killed.
  std::chrono::milliseconds actors_by;
  /// The process has ended by then (the grace period): the watchdog.
  std::chrono::milliseconds deadline;

  static constexpr shutdown_budget of(std::chrono::milliseconds grace) {
    grace = std::max(grace, std::chrono::milliseconds{1});
    return {std::min(max_drain, grace * 6 / 10), grace * 9 / 10, grace};
  }
};

} // namespace istio_csr::process
