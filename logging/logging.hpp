#pragma once

#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

namespace istio_csr::logging {

/// Output format of every logger (`--log-format`).
enum class format { text, json };

/// Process-wide logging settings.
struct settings {
  /// `--log-level`: 1 = info, 2 = debug, 3..5 = trace (more detail).
  int verbosity = 1;
  format output = format::text;
};

/// Configures the process-wide sink (stderr) and level. Safe to call again;
/// later calls replace the settings of every logger.
void init(const settings& cfg);

/// Returns the named logger (e.g. "grpc-server"), creating it on first use.
/// Every logger writes through the process-wide sink, so plain spdlog calls
/// (`get("x")->info("n={}", n)`) get the configured format too.
std::shared_ptr<spdlog::logger> get(const std::string& name);

/// Maps `--log-level` to an spdlog level: <= 1 info, 2 debug, >= 3 trace.
spdlog::level::level_enum level_for(int verbosity) noexcept;

/// Receives each formatted line, including its trailing '\n'.
using line_writer = std::function<void(std::string_view line)>;

/// Test hook: sends every line to `writer` instead of stderr; an empty
/// function restores stderr. Calls to `writer` are serialised.
void set_writer_for_testing(line_writer writer);

/// A structured key/value attached to a log line. In text format it renders
/// as ` key="value"`; in JSON as a member of the line's object. An error goes
/// in the key `err` (klog's and component-base's name), which both formats
/// put right after the message.
struct field {
  std::string_view key;
  std::string value;
};

/// Where a log call is, taken like `std::source_location::current()` as a
/// default argument (the caller's file and line). Not `std::source_location`
/// itself: libstdc++ 12 builds it on `__builtin_source_location`, which
/// clang 14 lacks, and the fuzz targets are built with clang
/// (docs/fuzzing.md).
struct call_site {
  const char* file = "";
  unsigned line = 0;
  const char* function = "";

  static constexpr call_site
  current(const char* file = __builtin_FILE(), unsigned line = __builtin_LINE(),
          const char* function = __builtin_FUNCTION()) noexcept {
    return {file, line, function};
  }
};

/// Logs `msg` with structured `fields`; `where` is the call site (the
/// `file:line` of the line). Never pass a token or a key here.
void log(spdlog::logger& logger, spdlog::level::level_enum level,
         std::string_view msg, std::initializer_list<field> fields = {},
         call_site where = call_site::current());

/// Verbosity 0 (always shown): klog's `I` lines, JSON `"v":0`.
inline void info(spdlog::logger& l, std::string_view msg,
                 std::initializer_list<field> fields = {},
                 call_site where = call_site::current()) {
  log(l, spdlog::level::info, msg, fields, where);
}

/// klog's `W` lines; in JSON an info line with `"v":0` (component-base has
/// no level name).
inline void warn(spdlog::logger& l, std::string_view msg,
                 std::initializer_list<field> fields = {},
                 call_site where = call_site::current()) {
  log(l, spdlog::level::warn, msg, fields, where);
}

/// klog's `E` lines; in JSON a line without `v` (the error in `err`).
inline void error(spdlog::logger& l, std::string_view msg,
                  std::initializer_list<field> fields = {},
                  call_site where = call_site::current()) {
  log(l, spdlog::level::err, msg, fields, where);
}

/// Verbosity 2 (`-v 2`): created/signed/deleted objects.
inline void debug(spdlog::logger& l, std::string_view msg,
                  std::initializer_list<field> fields = {},
                  call_site where = call_site::current()) {
  log(l, spdlog::level::debug, msg, fields, where);
}

/// Verbosity 3+: waiting, watch and file-watch details.
inline void trace(spdlog::logger& l, std::string_view msg,
                  std::initializer_list<field> fields = {},
                  call_site where = call_site::current()) {
  log(l, spdlog::level::trace, msg, fields, where);
}

} // namespace istio_csr::logging
