#pragma once

#include <memory>

#include "signing_api/sign_request.hpp"

namespace istio_csr::actors::signing {

/// Holds a signing request on its way through the actors: messages carry a
/// `request_ref`, never the request itself. When the last `request_ref`
/// goes (the request was finished, or an actor holding it in its mailbox or
/// state died), an unfinished request is answered
/// `sign_errc::signer_unavailable`, which istio-agent and ztunnel retry. So
/// a request is never left hanging until its caller gives up.
class request_guard {
 public:
  explicit request_guard(signing_api::sign_request request) noexcept
    : request_(std::move(request)) {
    // nop
  }

  ~request_guard();

  request_guard(const request_guard&) = delete;
  request_guard& operator=(const request_guard&) = delete;

  const signing_api::sign_request& request() const noexcept {
    return request_;
  }

  const signing_api::sign_request* operator->() const noexcept {
    return &request_;
  }

  signing_api::sign_reply& reply() const noexcept {
    return *request_.reply;
  }

 private:
  signing_api::sign_request request_;
};

using request_ref = std::shared_ptr<const request_guard>;

inline request_ref make_request_ref(signing_api::sign_request request) {
  return std::make_shared<const request_guard>(std::move(request));
}

} // namespace istio_csr::actors::signing
