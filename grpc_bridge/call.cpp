#include "grpc_bridge/call.hpp"

#include "proto/ca.pb.h"

namespace istio_csr::grpc_bridge {

call::call(std::unique_ptr<istio::v1::auth::IstioCertificateRequest> request,
           caller_info caller, std::chrono::steady_clock::time_point deadline)
  : request_(std::move(request)), caller_(std::move(caller)),
    deadline_(deadline) {}

call::~call() = default;

bool call::finished() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return finished_;
}

bool call::finish_ok(std::vector<std::string> chain) {
  return finish(grpc::StatusCode::OK, {}, std::move(chain), false);
}

bool call::finish_error(grpc::StatusCode code, std::string message) {
  if (code == grpc::StatusCode::OK)
    code = grpc::StatusCode::INTERNAL;
  return finish(code, std::move(message), {}, false);
}

void call::on_cancel(std::function<void()> f) {
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

void call::cancel() {
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
  finish(grpc::StatusCode::CANCELLED, "call cancelled", {}, true);
}

bool call::finish(grpc::StatusCode code, std::string message,
                  std::vector<std::string> chain, bool from_cancel) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (finished_ || (cancelled_ && !from_cancel))
      return false;
    finished_ = true;
    on_cancel_ = nullptr;
  }
  deliver(code, std::move(message), std::move(chain));
  return true;
}

local_call::local_call(
  std::unique_ptr<istio::v1::auth::IstioCertificateRequest> request,
  caller_info caller, std::chrono::steady_clock::time_point deadline,
  done_handler done)
  : call(std::move(request), std::move(caller), deadline),
    done_(std::move(done)) {}

std::shared_ptr<local_call> local_call::make(
  const istio::v1::auth::IstioCertificateRequest& request, caller_info caller,
  std::chrono::steady_clock::time_point deadline, done_handler done) {
  return std::make_shared<local_call>(
    std::make_unique<istio::v1::auth::IstioCertificateRequest>(request),
    std::move(caller), deadline, std::move(done));
}

void local_call::deliver(grpc::StatusCode code, std::string message,
                         std::vector<std::string> chain) {
  if (done_)
    done_(result{code, std::move(message), std::move(chain)});
}

call_handler::~call_handler() = default;

} // namespace istio_csr::grpc_bridge
