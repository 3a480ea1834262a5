#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace istio_csr::devcluster::issuer {

/// One background thread for CPU-heavy work (RSA key generation takes up to
/// seconds) so that the client's Asio thread, which runs every controller,
/// never stalls on it. Jobs post their results back themselves.
class key_worker {
 public:
  key_worker();

  /// Stops (see `stop`).
  ~key_worker();

  key_worker(const key_worker&) = delete;
  key_worker& operator=(const key_worker&) = delete;

  /// Queues `job` (any thread). Ignored after `stop`.
  void submit(std::function<void()> job);

  /// Drops queued jobs, waits for the running one and joins the thread.
  void stop();

 private:
  void loop();

  std::mutex mtx_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::thread thread_;
};

} // namespace istio_csr::devcluster::issuer
