#include "signing_api/sign_reply.hpp"

#include "signing_api/sign_errc.hpp"

namespace istio_csr::signing_api {

sign_reply::~sign_reply() = default;

bool sign_reply::finish(sign_result result) {
  return finish_impl(std::move(result), false);
}

bool sign_reply::finished() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return finished_;
}

bool sign_reply::cancelled() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return cancelled_;
}

void sign_reply::on_cancel(std::function<void()> f) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!cancelled_) {
      on_cancel_ = std::move(f);
      return;
    }
  }
  if (f)
    f();
}

void sign_reply::observe(std::function<void(const sign_result&)> f) {
  std::lock_guard<std::mutex> guard{mtx_};
  observer_ = std::move(f);
}

void sign_reply::cancel() {
  std::function<void()> f;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (cancelled_)
      return;
    cancelled_ = true;
    f.swap(on_cancel_);
  }
  if (f)
    f();
  finish_impl(make_error(sign_errc::cancelled), true);
}

bool sign_reply::finish_impl(sign_result result, bool from_cancel) {
  std::function<void(const sign_result&)> observer;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (finished_ || (cancelled_ && !from_cancel))
      return false;
    finished_ = true;
    on_cancel_ = nullptr;
    observer.swap(observer_);
  }
  if (observer)
    observer(result);
  deliver(std::move(result));
  return true;
}

std::shared_ptr<callback_reply> callback_reply::make(handler done) {
  return std::make_shared<callback_reply>(std::move(done));
}

void callback_reply::deliver(sign_result result) {
  if (done_)
    done_(std::move(result));
}

} // namespace istio_csr::signing_api
