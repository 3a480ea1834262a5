#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config/parse.hpp"
#include "tests/support/check_case.hpp"

namespace istio_csr::config::test {

/// Runs `parse` with `args` and a fake environment.
inline parse_result run_parse(const std::vector<std::string>& args,
                              const std::map<std::string, std::string>& env
                              = {}) {
  return parse(args, [env](const std::string& name) {
    auto i = env.find(name);
    return i == env.end() ? std::nullopt
                          : std::optional<std::string>{i->second};
  });
}

/// Joins arguments for messages.
inline std::string join_args(const std::vector<std::string>& args) {
  std::string out;
  for (auto& a : args) {
    if (!out.empty())
      out += ' ';
    out += a;
  }
  return out;
}

} // namespace istio_csr::config::test

/// Parses `args`, which must succeed; evaluates to the options.
#define ICSR_PARSE_OK(...)                                                     \
  [&](const std::vector<std::string>& icsr_args) {                             \
    auto icsr_res = ::istio_csr::config::test::run_parse(icsr_args);           \
    if (!icsr_res.should_run())                                                \
      CAF_FAIL("parse failed for: "                                            \
               << ::istio_csr::config::test::join_args(icsr_args) << " -> "    \
               << icsr_res.err_text << icsr_res.out_text);                     \
    return *icsr_res.opts;                                                     \
  }(std::vector<std::string> __VA_ARGS__)

/// Parses `args`, which must fail with exit code 1; evaluates to stderr
/// without the "Error: " prefix and trailing newline.
#define ICSR_PARSE_ERR(...)                                                    \
  [&](const std::vector<std::string>& icsr_args) {                             \
    auto icsr_res = ::istio_csr::config::test::run_parse(icsr_args);           \
    if (icsr_res.should_run() || icsr_res.exit_code != 1)                      \
      CAF_FAIL("expected an error for: "                                       \
               << ::istio_csr::config::test::join_args(icsr_args));            \
    std::string icsr_msg = icsr_res.err_text;                                  \
    if (icsr_msg.rfind("Error: ", 0) == 0)                                     \
      icsr_msg.erase(0, 7);                                                    \
    if (!icsr_msg.empty() && icsr_msg.back() == '\n')                          \
      icsr_msg.pop_back();                                                     \
    return icsr_msg;                                                           \
  }(std::vector<std::string> __VA_ARGS__)
