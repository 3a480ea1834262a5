#pragma once

#include <cstdint>
#include <string>

#include "caf/error.hpp"
#include "caf/timespan.hpp"

namespace istio_csr::actors::reconcile {

/// How one reconcile of a key ended (controller-runtime's `Result` and
/// `error` in one value). Build it with the factory functions.
struct result {
  enum class kind : uint8_t {
    /// The key is as wanted (or nothing can be done now): wait for the
    /// next trigger.
    done,
    /// As `done`, and run again after `delay` unless triggered earlier.
    requeue_after,
    /// Someone else wrote in between (HTTP 409, a create that found the
    /// object): run again at once on fresh state, as an error once the
    /// driver's bound of conflicts in a row is reached.
    conflict,
    /// Failed: run again after the driver's backoff.
    error,
  };

  kind type = kind::done;
  /// `requeue_after`: the delay.
  caf::timespan delay{0};
  /// `conflict`, `error`: the cause.
  caf::error err;
  /// `conflict`, `error`: which step failed, for the controller's log
  /// (e.g. "create").
  std::string step;

  static result done() {
    return result{};
  }

  static result requeue_after(caf::timespan delay) {
    return result{kind::requeue_after, delay, {}, {}};
  }

  static result conflict(caf::error err, std::string step) {
    return result{kind::conflict, caf::timespan{0}, std::move(err),
                  std::move(step)};
  }

  static result error(caf::error err, std::string step) {
    return result{kind::error, caf::timespan{0}, std::move(err),
                  std::move(step)};
  }
};

/// "done", "requeue_after", "conflict" or "error".
std::string to_string(result::kind x);

} // namespace istio_csr::actors::reconcile
