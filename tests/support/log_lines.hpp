#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace istio_csr::test {

/// One parsed line of the agent's log, in either format
/// (docs/logging.md).
struct log_line {
  /// klog's severity letter: I, W, E (text); in JSON 'I' for a line with `v`
  /// and 'E' for one without.
  char severity = 0;
  /// Text only: MMDD hh:mm:ss.uuuuuu as printed.
  std::string time;
  /// JSON only: `ts`, seconds since the epoch.
  double ts = 0;
  /// Text only: the pid column.
  int pid = 0;
  /// `file:line` (text) or `dir/file:line` (JSON).
  std::string caller;
  std::string msg;
  /// JSON only: `v` of an info line.
  std::optional<int> v;
  /// Every key/value after the message (including `logger` and `err`),
  /// values unquoted.
  std::map<std::string, std::string> fields;
  /// The keys in line order.
  std::vector<std::string> keys;

  /// A field's value, or nullopt.
  std::optional<std::string> get(const std::string& key) const;
};

/// The klog text header, as a regular expression (ECMAScript):
/// `L MMDD hh:mm:ss.uuuuuu PID file:line] `, with groups severity, time,
/// pid, caller.
extern const char* const klog_header_regex;

/// Parses a klog text line (with or without its trailing '\n'): the header
/// (`klog_header_regex`), then a Go-quoted message, then only
/// ` key="value"` pairs (Go-quoted values, bare keys). nullopt otherwise.
std::optional<log_line> parse_text_line(std::string_view line);

/// Parses a component-base JSON line; nullopt if it is not a JSON object
/// with `ts` (number), `caller` and `msg` (strings) and string values
/// elsewhere.
std::optional<log_line> parse_json_line(std::string_view line);

/// Undoes Go's strconv.Quote (the escapes klog writes); nullopt on a bad
/// escape or missing quotes.
std::optional<std::string> unquote(std::string_view quoted);

/// Splits a log into lines (without '\n'); a last line without '\n' is kept.
std::vector<std::string> split_lines(const std::string& text);

} // namespace istio_csr::test
