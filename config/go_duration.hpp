#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "caf/expected.hpp"

namespace istio_csr::config {

/// Parses a duration with the syntax and limits of Go's
/// `time.ParseDuration`: an optional sign, then one or more decimal numbers
/// (fractions allowed) each followed by a unit (`ns`, `us`, `µs`, `μs`, `ms`,
/// `s`, `m`, `h`), e.g. `300ms`, `1.5h`, `1h30m`, `-2m`; `0` needs no unit.
/// Errors carry Go's messages (`time: invalid duration "x"`, `time: missing
/// unit in duration "1"`, `time: unknown unit "d" in duration "1d"`).
caf::expected<std::chrono::nanoseconds> parse_go_duration(std::string_view s);

/// Formats like Go's `time.Duration.String()`: `1h0m0s`, `1m30s`, `1.5s`,
/// `300ms`, `1.2µs`, `0s` (`kube::format_go_duration`, the one printer).
std::string format_go_duration(std::chrono::nanoseconds d);

} // namespace istio_csr::config
