#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config/options.hpp"

namespace istio_csr::config {

/// Looks up an environment variable: nullopt when it is not set.
using env_lookup
  = std::function<std::optional<std::string>(const std::string& name)>;

/// The process environment (`getenv`).
std::optional<std::string> process_env(const std::string& name);

/// What `parse` decided: either run with `opts`, or print `out_text` (to
/// stdout) and `err_text` (to stderr) and exit with `exit_code`.
struct parse_result {
  std::optional<options> opts;
  int exit_code = 0;
  std::string out_text;
  std::string err_text;

  bool should_run() const noexcept {
    return opts.has_value();
  }
};

/// Parses the command line with pflag (Go) semantics, reads the environment
/// (`TOKEN_AUDIENCES`) through `env`, then runs `validate`. `--help` and
/// `--version` give exit code 0 with their text; any error gives exit code 1
/// with `Error: <message>` on stderr.
///
/// Syntax (as upstream's pflag): `--flag=value`, `--flag value`, `-f value`,
/// `-fvalue`, `-f=value`; booleans as `--flag`, `--flag=true|false` (Go's
/// ParseBool spellings; `--flag false` does not set false); string lists
/// comma-separated (CSV quoting) and repeatable, the first use replacing the
/// default; maps `k=v,k2=v2`, repeatable and merged; `--` ends the flags.
/// Positional arguments are rejected (upstream ignores them silently).
parse_result parse(int argc, const char* const* argv,
                   const env_lookup& env = process_env);

/// Like the above with the arguments after the program name.
parse_result parse(const std::vector<std::string>& args,
                   const env_lookup& env = process_env);

/// Metadata of one flag, for tests and documentation.
struct flag_info {
  std::string long_name;    ///< without dashes, e.g. "serving-address"
  char short_name = '\0';   ///< e.g. 'a', or '\0'
  std::string group;        ///< the help section
  std::string type_name;    ///< pflag's type name: string, bool, duration, ...
  std::string default_text; ///< as shown in --help; empty for zero values
};

/// Every flag of the agent, in help order (without --help and --version).
std::vector<flag_info> flags();

/// The text of `--help`.
std::string help_text();

/// The project version, e.g. `0.1.0`.
std::string version();

/// The text of `--version`: `istio-csr <version>\n`.
std::string version_text();

} // namespace istio_csr::config
