#include "grpc_bridge/service.hpp"

#include <chrono>
#include <exception>
#include <string_view>

#include "caf/sec.hpp"

#include "grpc_bridge/call_metadata.hpp"
#include "grpc_bridge/status.hpp"
#include "logging/logging.hpp"
#include "metrics/grpc_server.hpp"
#include "metrics/istio_csr.hpp"

namespace istio_csr::grpc_bridge {

namespace {

using istio::v1::auth::IstioCertificateRequest;
using istio::v1::auth::IstioCertificateResponse;

class reactor;

/// The `sign_reply` behind a gRPC reactor: the result becomes the response
/// or a status (`status_of`).
class grpc_reply final : public signing_api::sign_reply {
 public:
  grpc_reply(reactor* owner, IstioCertificateResponse* response)
    : reactor_(owner), response_(response) {}

  void cancelled_by_grpc() {
    cancel();
  }

 private:
  void deliver(signing_api::sign_result result) override;

  // Both stay valid until the reactor's OnDone, which gRPC runs only after
  // the one Finish that `deliver` issues.
  reactor* reactor_;
  IstioCertificateResponse* response_;
};

/// One CreateCertificate call. Counts upstream's gRPC server families
/// (go-grpc-middleware: started and received at the start; sent on OK;
/// handled with the code and the handling time at the finish) and holds a
/// unit of `istio_csr_requests_in_flight` until gRPC is done with it.
class reactor final : public grpc::ServerUnaryReactor {
 public:
  explicit reactor(std::shared_ptr<std::atomic<std::size_t>> active)
    : active_(std::move(active)), started_(std::chrono::steady_clock::now()),
      in_flight_(metrics::ours().requests_in_flight) {
    ++*active_;
    const auto& m = metrics::grpc_server_series();
    m.started.inc();
    m.msg_received.inc();
  }

  /// Answers the call (once) and counts the answer.
  void finish(const grpc::Status& status) {
    const auto& m = metrics::grpc_server_series();
    if (status.ok())
      m.msg_sent.inc();
    m.handled_with(static_cast<int>(status.error_code())).inc();
    m.handling_seconds.observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_)
        .count());
    Finish(status);
  }

  void attach(std::shared_ptr<grpc_reply> r) {
    reply_ = std::move(r);
  }

  void OnCancel() override {
    if (reply_)
      reply_->cancelled_by_grpc();
  }

  void OnDone() override {
    --*active_;
    delete this; // gRPC's reactor protocol: the reactor owns itself
  }

 private:
  std::shared_ptr<std::atomic<std::size_t>> active_;
  std::chrono::steady_clock::time_point started_;
  metrics::gauge_hold in_flight_;
  // Keeps the reply alive while gRPC may still report a cancellation.
  std::shared_ptr<grpc_reply> reply_;
};

void grpc_reply::deliver(signing_api::sign_result result) {
  if (result) {
    for (auto& element : *result)
      response_->add_cert_chain(std::move(element));
    reactor_->finish(grpc::Status::OK);
  } else {
    reactor_->finish(status_of(result.error()));
  }
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
  std::shared_ptr<signing_api::sign_handler> handler,
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
    r->finish(grpc::Status{grpc::StatusCode::RESOURCE_EXHAUSTED,
                           "too many requests in progress"});
    return r;
  }
  auto conn = registry_->find(ctx->peer());
  if (!conn) {
    // The TLS connection is already gone: nobody can receive an answer.
    r->finish(grpc::Status{grpc::StatusCode::UNAVAILABLE, "connection closed"});
    return r;
  }
  signing_api::sign_request req;
  auto& caller = req.caller;
  caller.peer = conn->remote;
  caller.connection_id = conn->id;
  caller.client_cert = conn->client_cert;
  read_call_metadata(ctx->client_metadata(), caller);
  req.csr_pem = request->csr();
  req.validity_seconds = request->validity_duration();
  req.impersonated_identity = impersonated_identity(request->metadata());
  req.deadline = to_steady(ctx->deadline());
  auto reply = std::make_shared<grpc_reply>(r, response);
  r->attach(reply);
  req.reply = reply;
  try {
    handler_->handle(std::move(req));
  } catch (const std::exception& e) {
    logging::error(*logging::get("grpc-server"), "call handler failed",
                   {{"err", e.what()}});
    reply->finish(caf::make_error(caf::sec::runtime_error));
  }
  return r;
}

} // namespace istio_csr::grpc_bridge
