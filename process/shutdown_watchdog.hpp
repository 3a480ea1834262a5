#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace istio_csr::process {

/// Bounds a shutdown. Once armed, it calls `on_expiry` on a thread of its
/// own if the deadline passes before it is disarmed (or destroyed), with
/// the phase the shutdown was in then. The agent's `on_expiry` logs an
/// error and ends the process, so that nothing that hangs (a drain, an
/// actor, a client thread) keeps it alive past its grace period. It waits
/// on a condition variable: no polling, no sleep.
class shutdown_watchdog {
 public:
  using clock = std::chrono::steady_clock;

  /// Runs on the watchdog's thread, with the current phase.
  using expiry_handler = std::function<void(const std::string& phase)>;

  explicit shutdown_watchdog(expiry_handler on_expiry);

  /// Disarms; `on_expiry` does not run afterwards.
  ~shutdown_watchdog();

  shutdown_watchdog(const shutdown_watchdog&) = delete;
  shutdown_watchdog& operator=(const shutdown_watchdog&) = delete;

  /// Starts watching: `on_expiry` runs at `deadline` unless disarmed
  /// first. Only the first call counts.
  void arm(clock::time_point deadline);

  /// Whether `arm` was called.
  bool armed() const;

  /// Names what the shutdown does now (what `on_expiry` reports).
  void phase(std::string what);

  /// Stops watching. Returns once `on_expiry` will not run, or has run.
  void disarm();

 private:
  void run();

  expiry_handler on_expiry_;
  mutable std::mutex mtx_;
  std::condition_variable cv_;
  clock::time_point deadline_;
  std::string phase_;
  bool armed_ = false;
  bool disarmed_ = false;
  std::thread thread_;
};

} // namespace istio_csr::process
