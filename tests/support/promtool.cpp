#include "tests/support/promtool.hpp"

#include <set>
#include <sstream>

#include "tests/support/process.hpp"

namespace istio_csr::test {

namespace {

/// Counters whose names are fixed by the projects we replace, which lint
/// as "should have _total suffix" (and, for `_count`, "should not have
/// _count suffix").
const std::set<std::string>& fixed_counter_names() {
  static const std::set<std::string> names{
    "citadel_server_csr_count",
    "citadel_server_authentication_failure_count",
    "citadel_server_csr_parsing_err_count",
    "citadel_server_id_extraction_err_count",
    "citadel_server_csr_sign_err_count",
    "citadel_server_success_cert_issuance_count",
    "cert_manager_istio_csr_tls_provider_certificate_requests",
  };
  return names;
}

bool allowed(const std::string& line) {
  auto space = line.find(' ');
  if (space == std::string::npos)
    return false;
  auto name = line.substr(0, space);
  auto finding = line.substr(space + 1);
  if (fixed_counter_names().count(name) == 0)
    return false;
  return finding == "counter metrics should have \"_total\" suffix"
         || finding
              == "non-histogram and non-summary metrics should not have "
                 "\"_count\" suffix";
}

} // namespace

std::string promtool_problems(const std::string& exposition) {
  auto res = run({program("promtool"), "check", "metrics"}, 60s, exposition);
  // 0: clean; 3: lint findings only; anything else: it did not parse.
  if (res.exit_code != 0 && res.exit_code != 3)
    return "promtool exit " + std::to_string(res.exit_code) + ": " + res.out
           + res.err;
  std::string problems;
  std::istringstream lines{res.out + res.err};
  for (std::string line; std::getline(lines, line);)
    if (!line.empty() && !allowed(line))
      problems += line + "\n";
  return problems;
}

} // namespace istio_csr::test
