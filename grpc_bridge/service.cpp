#include "grpc_bridge/service.hpp"

#include <exception>
#include <string_view>

#include "logging/logging.hpp"

namespace istio_csr::grpc_bridge {

namespace {

using istio::v1::auth::IstioCertificateRequest;
using istio::v1::auth::IstioCertificateResponse;

class reactor;

/// The `call` behind a gRPC reactor.
class grpc_call final : public call {
 public:
  grpc_call(std::unique_ptr<IstioCertificateRequest> request,
            caller_info caller, std::chrono::steady_clock::time_point deadline,
            reactor* owner, IstioCertificateResponse* response)
    : call(std::move(request), std::move(caller), deadline), reactor_(owner),
      response_(response) {}

  void cancelled_by_grpc() {
    cancel();
  }

 private:
  void deliver(grpc::StatusCode code, std::string message,
               std::vector<std::string> chain) override;

  // Both stay valid until the reactor's OnDone, which gRPC runs only after
  // the one Finish that `deliver` issues.
  reactor* reactor_;
  IstioCertificateResponse* response_;
};

class reactor final : public grpc::ServerUnaryReactor {
 public:
  explicit reactor(std::shared_ptr<std::atomic<std::size_t>> active)
    : active_(std::move(active)) {
    ++*active_;
  }

  void attach(std::shared_ptr<grpc_call> c) {
    call_ = std::move(c);
  }

  void OnCancel() override {
    if (call_)
      call_->cancelled_by_grpc();
  }

  void OnDone() override {
    --*active_;
    delete this; // gRPC's reactor protocol: the reactor owns itself
  }

 private:
  std::shared_ptr<std::atomic<std::size_t>> active_;
  // Keeps the call alive while gRPC may still report a cancellation.
  std::shared_ptr<grpc_call> call_;
};

void grpc_call::deliver(grpc::StatusCode code, std::string message,
                        std::vector<std::string> chain) {
  if (code == grpc::StatusCode::OK) {
    for (auto& element : chain)
      response_->add_cert_chain(std::move(element));
    reactor_->Finish(grpc::Status::OK);
  } else {
    reactor_->Finish(grpc::Status{code, std::move(message)});
  }
}

std::string_view view(const grpc::string_ref& s) {
  return {s.data(), s.size()};
}

std::chrono::steady_clock::time_point
to_steady(std::chrono::system_clock::time_point deadline) {
  using namespace std::chrono;
  if (deadline == system_clock::time_point::max())
    return steady_clock::time_point::max();
  auto left = deadline - system_clock::now();
  auto steady_now = steady_clock::now();
  // Far-future deadlines must not overflow.
  if (left > duration_cast<system_clock::duration>(hours{24 * 365 * 100}))
    return steady_clock::time_point::max();
  return steady_now + duration_cast<steady_clock::duration>(left);
}

} // namespace

certificate_service::certificate_service(
  std::shared_ptr<call_handler> handler,
  std::shared_ptr<const connection_registry> registry,
  std::size_t max_active_calls)
  : handler_(std::move(handler)), registry_(std::move(registry)),
    active_(std::make_shared<std::atomic<std::size_t>>(0)),
    max_active_calls_(max_active_calls) {}

grpc::ServerUnaryReactor*
certificate_service::CreateCertificate(grpc::CallbackServerContext* ctx,
                                       const IstioCertificateRequest* request,
                                       IstioCertificateResponse* response) {
  auto* r = new reactor(active_);
  // `r` counts itself in.
  if (*active_ > max_active_calls_) {
    r->Finish(grpc::Status{grpc::StatusCode::RESOURCE_EXHAUSTED,
                           "too many requests in progress"});
    return r;
  }
  auto conn = registry_->find(ctx->peer());
  if (!conn) {
    // The TLS connection is already gone: nobody can receive an answer.
    r->Finish(grpc::Status{grpc::StatusCode::UNAVAILABLE, "connection closed"});
    return r;
  }
  caller_info caller;
  caller.peer = conn->remote;
  caller.connection_id = conn->id;
  caller.client_cert = conn->client_cert;
  constexpr std::string_view bearer = "Bearer ";
  for (const auto& [key, value] : ctx->client_metadata()) {
    auto k = view(key);
    auto v = view(value);
    if (k == "authorization") {
      caller.has_authorization = true;
      if (!caller.bearer_token && v.substr(0, bearer.size()) == bearer)
        caller.bearer_token = std::string{v.substr(bearer.size())};
    } else if (k == "clusterid") {
      caller.cluster_ids.emplace_back(v);
    }
  }
  auto c = std::make_shared<grpc_call>(
    std::make_unique<IstioCertificateRequest>(*request), std::move(caller),
    to_steady(ctx->deadline()), r, response);
  r->attach(c);
  try {
    handler_->handle(c);
  } catch (const std::exception& e) {
    logging::error(*logging::get("grpc-server"), "call handler failed",
                   {{"error", e.what()}});
    c->finish_error(grpc::StatusCode::INTERNAL, "internal error");
  }
  return r;
}

} // namespace istio_csr::grpc_bridge
