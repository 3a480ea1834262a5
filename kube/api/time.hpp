#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace istio_csr::kube {

/// `metav1.Time`: RFC 3339 in UTC with second precision,
/// e.g. `2024-05-01T10:00:00Z`.
std::string format_time(std::chrono::system_clock::time_point tp);

/// `metav1.MicroTime`: RFC 3339 in UTC with six fractional digits,
/// e.g. `2024-05-01T10:00:00.123456Z` (Lease acquire/renew times).
std::string format_micro_time(std::chrono::system_clock::time_point tp);

/// Parses RFC 3339 (`Z` or `+hh:mm` offset, optional fraction of up to nine
/// digits). Returns nullopt on malformed input, and for a time system_clock
/// cannot hold (before 1677-09-21, after 2262-04-11).
std::optional<std::chrono::system_clock::time_point>
parse_time(std::string_view text);

/// Go's `time.Duration.String()` (the JSON form of `metav1.Duration`), e.g.
/// `24h0m0s`, `1m30s`, `5s`, `1.5s`, `250ms`, `0s`.
std::string format_go_duration(std::chrono::nanoseconds d);

} // namespace istio_csr::kube
