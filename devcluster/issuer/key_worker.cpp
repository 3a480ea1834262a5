#include "devcluster/issuer/key_worker.hpp"

namespace istio_csr::devcluster::issuer {

key_worker::key_worker() : thread_([this] { loop(); }) {
  // nop
}

key_worker::~key_worker() {
  stop();
}

void key_worker::submit(std::function<void()> job) {
  {
    std::lock_guard guard{mtx_};
    if (stopping_)
      return;
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void key_worker::stop() {
  std::deque<std::function<void()>> dropped;
  {
    std::lock_guard guard{mtx_};
    stopping_ = true;
    dropped.swap(jobs_);
  }
  cv_.notify_one();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id())
    thread_.join();
}

void key_worker::loop() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock guard{mtx_};
      cv_.wait(guard, [this] { return stopping_ || !jobs_.empty(); });
      if (stopping_)
        return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

} // namespace istio_csr::devcluster::issuer
