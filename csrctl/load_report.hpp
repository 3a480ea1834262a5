#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "csrctl/latency_histogram.hpp"

namespace istio_csr::csrctl {

/// What a `csrctl load` run was asked to do, repeated in its report.
struct load_settings {
  std::string address;
  size_t concurrency = 0; ///< callers, or with a rate the calls in flight
  size_t connections = 0;
  size_t identities = 0;
  std::string key;  ///< "rsa" or "ecdsa"
  int key_size = 0; ///< bits, or the curve's size
  double rate = 0;  ///< calls started per second; 0: closed loop
  std::optional<uint64_t> count;
  std::optional<std::chrono::milliseconds> duration;
  std::chrono::milliseconds timeout{0}; ///< of each attempt
  bool retry = false;
  bool verify = false;
  bool impersonate = false;
};

/// The outcome of a run. A call is counted once, when it ends: `ok`, in
/// `errors` by the gRPC code of its last attempt, or `verify_failed`.
struct load_report {
  load_settings settings;
  uint64_t total = 0; ///< calls that ended
  uint64_t ok = 0;
  std::map<int, uint64_t> errors; ///< gRPC code -> calls
  /// The first status message seen for each code of `errors`.
  std::map<int, std::string> error_messages;
  /// Answered calls whose chain failed `--verify`.
  uint64_t verify_failed = 0;
  std::string verify_message; ///< the first failure's reason
  uint64_t retries = 0;       ///< attempts after a call's first
  /// With a rate: starts not made because `concurrency` calls were in flight.
  uint64_t skipped = 0;
  /// Calls in flight or waiting to retry when the run was interrupted (in
  /// no other count).
  uint64_t abandoned = 0;
  bool interrupted = false;
  std::chrono::nanoseconds elapsed{0};
  /// Successful calls, from the start of their first attempt (with a rate:
  /// from when they were due) to the answer.
  latency_histogram latency;

  /// Successful calls per second.
  double throughput() const noexcept;
};

/// The longest status message kept per code.
constexpr size_t max_message_size = 256;

/// The human summary: settings, counts, errors by code name with their
/// first message, throughput and latency percentiles.
std::string render_summary(const load_report& report);

/// The report as one JSON object on one line, without the newline
/// (csrctl/README.md lists its keys). Invalid UTF-8 in a status message
/// becomes U+FFFD.
std::string render_json(const load_report& report);

/// 0 when every call ended well and none was skipped, 130 when
/// interrupted, else 1.
int exit_status(const load_report& report);

} // namespace istio_csr::csrctl
