#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <grpcpp/support/status_code_enum.h>

#include "grpc_bridge/tls/client_identity.hpp"

namespace istio::v1::auth {
class IstioCertificateRequest;
} // namespace istio::v1::auth

namespace istio_csr::grpc_bridge {

/// Who is calling, as far as the transport knows (spec §2.3). Authentication
/// itself (TokenReview, cluster check) is the handler's job.
struct caller_info {
  /// The first `authorization` value that starts with "Bearer ", without
  /// that prefix. Never log it.
  std::optional<std::string> bearer_token;
  /// Whether any `authorization` header was sent (for the error text: "no
  /// HTTP authorization header exists" vs "no bearer token exists").
  bool has_authorization = false;
  /// Every `clusterid` value, in order.
  std::vector<std::string> cluster_ids;
  /// The verified client certificate's identity, if one was presented.
  std::optional<client_cert_identity> client_cert;
  /// The client's address, "ip:port".
  std::string peer;
  /// The TLS connection the call came on.
  std::uint64_t connection_id = 0;
};

/// One CreateCertificate call in progress. Thread-safe: every member may be
/// called from any thread. The first `finish_*` wins; later ones, and any
/// after the client cancelled, are no-ops that return false. A call must be
/// finished eventually (or be cancelled): until then gRPC keeps it open.
class call {
 public:
  virtual ~call();

  call(const call&) = delete;
  call& operator=(const call&) = delete;

  /// The request (a copy owned by this object, valid as long as it lives).
  const istio::v1::auth::IstioCertificateRequest& request() const noexcept {
    return *request_;
  }

  const caller_info& caller() const noexcept {
    return caller_;
  }

  /// The caller's deadline; `time_point::max()` when it set none.
  std::chrono::steady_clock::time_point deadline() const noexcept {
    return deadline_;
  }

  /// Whether the client cancelled (or its deadline passed, or the server
  /// gave up on it while shutting down).
  bool cancelled() const noexcept {
    return cancelled_;
  }

  /// Whether a result was delivered (or the call was cancelled).
  bool finished() const;

  /// Answers OK with `chain` (leaf first, root bundle last).
  bool finish_ok(std::vector<std::string> chain);

  /// Answers with an error status. `code` must not be OK.
  bool finish_error(grpc::StatusCode code, std::string message);

  /// Runs `f` once when the call is cancelled (at once, on this thread, if
  /// it already is). `f` runs on a gRPC thread: it must not block. Replaces
  /// an earlier callback.
  void on_cancel(std::function<void()> f);

 protected:
  call(std::unique_ptr<istio::v1::auth::IstioCertificateRequest> request,
       caller_info caller, std::chrono::steady_clock::time_point deadline);

  /// Delivers the one result; called exactly once, without locks held.
  virtual void deliver(grpc::StatusCode code, std::string message,
                       std::vector<std::string> chain)
    = 0;

  /// Marks the call cancelled, runs the cancel callback, then finishes it
  /// with CANCELLED (unless it already finished).
  void cancel();

 private:
  bool finish(grpc::StatusCode code, std::string message,
              std::vector<std::string> chain, bool from_cancel);

  std::unique_ptr<istio::v1::auth::IstioCertificateRequest> request_;
  caller_info caller_;
  std::chrono::steady_clock::time_point deadline_;
  std::atomic<bool> cancelled_{false};
  mutable std::mutex mtx_;
  bool finished_ = false;
  std::function<void()> on_cancel_;
};

/// A call that is not tied to gRPC: the result goes to a callback. For
/// tests of handlers and for in-process callers.
class local_call final : public call {
 public:
  struct result {
    grpc::StatusCode code = grpc::StatusCode::OK;
    std::string message;
    std::vector<std::string> chain;
  };

  using done_handler = std::function<void(result)>;

  static std::shared_ptr<local_call>
  make(const istio::v1::auth::IstioCertificateRequest& request,
       caller_info caller, std::chrono::steady_clock::time_point deadline,
       done_handler done);

  /// Simulates the client cancelling.
  void cancel_by_client() {
    cancel();
  }

  /// Use `make`.
  local_call(std::unique_ptr<istio::v1::auth::IstioCertificateRequest> request,
             caller_info caller, std::chrono::steady_clock::time_point deadline,
             done_handler done);

 private:
  void deliver(grpc::StatusCode code, std::string message,
               std::vector<std::string> chain) override;

  done_handler done_;
};

/// Receives every call. `handle` runs on a gRPC thread and must not block:
/// it starts the work (e.g. sends an actor message) and returns; the call is
/// finished later from any thread.
class call_handler {
 public:
  virtual ~call_handler();

  virtual void handle(std::shared_ptr<call> c) = 0;
};

} // namespace istio_csr::grpc_bridge
