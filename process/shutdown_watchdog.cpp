#include "process/shutdown_watchdog.hpp"

namespace istio_csr::process {

shutdown_watchdog::shutdown_watchdog(expiry_handler on_expiry)
  : on_expiry_(std::move(on_expiry)) {
  // nop
}

shutdown_watchdog::~shutdown_watchdog() {
  disarm();
}

void shutdown_watchdog::arm(clock::time_point deadline) {
  std::lock_guard guard{mtx_};
  if (armed_ || disarmed_)
    return;
  armed_ = true;
  deadline_ = deadline;
  thread_ = std::thread{[this] { run(); }};
}

bool shutdown_watchdog::armed() const {
  std::lock_guard guard{mtx_};
  return armed_;
}

void shutdown_watchdog::phase(std::string what) {
  std::lock_guard guard{mtx_};
  phase_ = std::move(what);
}

void shutdown_watchdog::disarm() {
  {
    std::lock_guard guard{mtx_};
    disarmed_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id())
    thread_.join();
}

void shutdown_watchdog::run() {
  std::string phase;
  {
    std::unique_lock guard{mtx_};
    if (cv_.wait_until(guard, deadline_, [this] { return disarmed_; }))
      return;
    phase = phase_;
  }
  on_expiry_(phase);
}

} // namespace istio_csr::process
