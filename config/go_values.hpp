#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "caf/expected.hpp"

namespace istio_csr::config {

/// Value syntax of the Go flag library (spf13/pflag) that upstream uses, so
/// that command lines written for the Go agent mean the same here. Errors are
/// `sec::invalid_argument` with Go's wording.

/// `strconv.ParseBool`: 1, t, T, TRUE, true, True, 0, f, F, FALSE, false,
/// False.
caf::expected<bool> parse_go_bool(std::string_view s);

/// `strconv.ParseInt(s, 0, bits)`: optional sign, then decimal, `0x` hex,
/// `0o`/`0` octal or `0b` binary; `_` only between digits. Fails when the
/// value does not fit in `bits` bits.
caf::expected<int64_t> parse_go_int(std::string_view s, int bits = 64);

/// `strconv.ParseFloat(s, 64)` for decimal notation (with exponent), `inf`
/// and `nan`.
caf::expected<double> parse_go_float(std::string_view s);

/// One record of Go's `encoding/csv` (comma-separated, `"`-quoted fields with
/// `""` as an escaped quote), as pflag's string-slice flags read their value.
/// The empty string gives an empty list.
caf::expected<std::vector<std::string>> parse_csv_list(std::string_view s);

/// pflag's `stringToString` value (`k=v,k2=v2`): with exactly one `=` the
/// whole value is one pair (so `a=b,c` is `a` → `b,c`); with more, it is read
/// as a CSV record of `k=v` pairs. Every pair needs a `=`.
caf::expected<std::map<std::string, std::string>>
parse_string_map(std::string_view s);

/// The `--request-timeout` syntax of client-go's clientcmd: a bare
/// non-negative integer counts seconds; otherwise a Go duration that must not
/// be negative. Zero means "no timeout".
caf::expected<std::chrono::nanoseconds> parse_kube_timeout(std::string_view s);

/// Formats a list like pflag shows string-slice defaults: `[a,b]`.
std::string format_list(const std::vector<std::string>& xs);

/// Formats a map like pflag shows string-to-string values: `[a=b,c=d]`.
std::string format_map(const std::map<std::string, std::string>& xs);

} // namespace istio_csr::config
