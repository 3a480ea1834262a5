#pragma once

// The command line of a benchmark program: `--flag value` pairs.

#include <functional>
#include <string>
#include <vector>

namespace istio_csr::bench {

/// Calls `set(flag, value)` for each `--flag value` pair of the command
/// line. False, after a message naming `program` on stderr, when a flag
/// has no value or `set` returns false (an unknown flag).
bool parse_flags(int argc, char** argv, const char* program,
                 const std::function<bool(const std::string& flag,
                                          const std::string& value)>& set);

/// The items of a comma-separated list ("1,64,256"), empty ones dropped.
std::vector<std::string> split_list(const std::string& text);

/// `split_list` as integers.
std::vector<int> int_list(const std::string& text);

} // namespace istio_csr::bench
