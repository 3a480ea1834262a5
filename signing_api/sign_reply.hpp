#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "caf/expected.hpp"

namespace istio_csr::signing_api {

/// What a signing request gets: the chain (leaf first, then intermediates,
/// then the whole root bundle as one final element), or a `sign_errc` error.
using sign_result = caf::expected<std::vector<std::string>>;

/// Where the answer of one signing request goes; implemented by the
/// transport (the gRPC bridge) or by a caller in process
/// (`callback_reply`). Thread-safe: every member may be called from any
/// thread. The first `finish` wins; later ones, and any after the caller
/// cancelled, are no-ops that return false. A request must be finished
/// eventually (or be cancelled).
class sign_reply {
 public:
  virtual ~sign_reply();

  sign_reply(const sign_reply&) = delete;
  sign_reply& operator=(const sign_reply&) = delete;

  /// Delivers `result` unless the reply is finished or cancelled.
  bool finish(sign_result result);

  /// Whether a result was delivered (or the caller cancelled).
  bool finished() const;

  /// Whether the caller cancelled (or its deadline passed, or the transport
  /// gave up on it while shutting down).
  bool cancelled() const;

  /// Runs `f` once when the caller cancels (at once, on this thread, if it
  /// already has). `f` may run on a transport thread: it must not block.
  /// Replaces an earlier callback.
  void on_cancel(std::function<void()> f);

  /// Runs `f` with the one result the caller gets (a chain, an error, or
  /// `cancelled`), on the thread that delivers it, just before the
  /// transport sees it: for counting outcomes. Set it before the request
  /// is handed on; replaces an earlier observer.
  void observe(std::function<void(const sign_result&)> f);

 protected:
  sign_reply() = default;

  /// The transport learned that the caller cancelled: marks the reply
  /// cancelled, runs the cancel callback, then delivers `cancelled`
  /// (unless a result was delivered before).
  void cancel();

  /// Hands the one result to the caller; called exactly once, without
  /// locks held.
  virtual void deliver(sign_result result) = 0;

 private:
  bool finish_impl(sign_result result, bool from_cancel);

  mutable std::mutex mtx_;
  bool finished_ = false;
  bool cancelled_ = false;
  std::function<void()> on_cancel_;
  std::function<void(const sign_result&)> observer_;
};

/// A reply that hands the result to a callback: for callers in process and
/// tests.
class callback_reply final : public sign_reply {
 public:
  using handler = std::function<void(sign_result)>;

  static std::shared_ptr<callback_reply> make(handler done);

  /// Simulates the caller cancelling.
  void cancel_by_caller() {
    cancel();
  }

  /// Use `make`.
  explicit callback_reply(handler done) : done_(std::move(done)) {}

 private:
  void deliver(sign_result result) override;

  handler done_;
};

} // namespace istio_csr::signing_api
