#pragma once

#include <chrono>
#include <cstddef>
#include <optional>

#include "csrctl/ca_call.hpp"

namespace istio_csr::csrctl {

/// CreateCertificate attempts in flight at once, driven by one thread: the
/// caller starts attempts in numbered slots and waits for the slots whose
/// attempt finished. The requests are fixed when the object is made and
/// named by their index; so are the connections. Implemented over grpc++
/// by `make_ca_client` (csrctl/ca_client.hpp); tests use fakes.
class async_calls {
 public:
  using clock = std::chrono::steady_clock;

  virtual ~async_calls();

  /// The number of slots (attempts that may be in flight at once).
  virtual size_t slots() const noexcept = 0;

  /// The clock that deadlines are measured on.
  virtual clock::time_point now() const = 0;

  /// Waits until every connection is established or `deadline`; returns
  /// how many are.
  virtual size_t connect(clock::time_point deadline) = 0;

  /// Starts an attempt of request `request` on connection `connection` in
  /// the idle `slot`, with a deadline `timeout` from now.
  virtual void start(size_t slot, size_t request, size_t connection,
                     std::chrono::milliseconds timeout)
    = 0;

  /// Waits until an attempt finishes, or until `deadline`: its slot, idle
  /// again, or nothing.
  virtual std::optional<size_t> next(clock::time_point deadline) = 0;

  /// The outcome of the attempt that last finished in `slot`, valid until
  /// the slot is started again.
  virtual const ca_result& result(size_t slot) const = 0;

  /// Cancels every attempt in flight; each still finishes through `next`
  /// (CANCELLED unless its answer came first).
  virtual void cancel_all() = 0;
};

} // namespace istio_csr::csrctl
