#pragma once

#include <chrono>
#include <optional>

#include "caf/error.hpp"

#include "retry/backoff.hpp"

namespace istio_csr::kube {

/// When and how soon a failed attempt is tried again.
///
/// - 429 Too Many Requests: always (the server did not process it), after
///   `Retry-After` when given.
/// - Connection failures before the request was written (connect refused,
///   name resolution, TLS handshake interrupted): always.
/// - Connection failures after the request may have reached the server, 5xx
///   and server-side timeouts: only idempotent requests (reads, watches,
///   creates of virtual resources such as TokenReview). A create with
///   `generateName` is never repeated once sent: it could create twice.
/// - TLS verification failures, 4xx other than 429, decode errors,
///   cancellation, our own deadline: never.
struct retry_policy {
  /// Attempts in total (first try included).
  int max_attempts = 5;
  /// Backoff before the second attempt; doubles up to `max_backoff`.
  std::chrono::milliseconds initial_backoff{100};
  std::chrono::milliseconds max_backoff{5000};
  /// Upper bound for a server's `Retry-After`.
  std::chrono::milliseconds max_retry_after{30000};

  /// One failed attempt.
  struct failure {
    caf::error err;
    /// Whether the request may have reached the server.
    bool request_sent = true;
    bool idempotent = false;
    /// The server's `Retry-After`, if any.
    std::optional<std::chrono::seconds> retry_after;
    /// 1 for the first attempt.
    int attempt = 1;
  };

  /// The delay before the next attempt, or nullopt to give up. `jitter` in
  /// [0, 1) spreads backoffs (the delay is scaled into [50%, 100%]).
  std::optional<std::chrono::milliseconds> next_delay(const failure& f,
                                                      double jitter) const;

  /// The backoff between attempts: `initial_backoff` doubling to
  /// `max_backoff`, jitter into [50%, 100%].
  retry::backoff backoff() const;

  /// Whether `f` is retryable at all (ignoring the attempt count).
  static bool retryable(const failure& f);
};

} // namespace istio_csr::kube
