#define CAF_SUITE actors.giveup_process

#include "caf/test/unit_test.hpp"

#include <sstream>
#include <string>

#include "actors/supervisor/supervisor.hpp"
#include "tests/support/process.hpp"

using namespace std::chrono_literals;

namespace {

/// How many lines of `text` contain both `a` and `b`.
size_t lines_with(const std::string& text, const std::string& a,
                  const std::string& b) {
  std::istringstream in{text};
  size_t n = 0;
  for (std::string line; std::getline(in, line);)
    if (line.find(a) != std::string::npos && line.find(b) != std::string::npos)
      ++n;
  return n;
}

/// The first line of `text` containing `needle`, or "".
std::string line_with(const std::string& text, const std::string& needle) {
  std::istringstream in{text};
  for (std::string line; std::getline(in, line);)
    if (line.find(needle) != std::string::npos)
      return line;
  return {};
}

} // namespace

CAF_TEST(a supervisor that gives up ends the process with a clear log line) {
  auto res = istio_csr::test::run(
    {istio_csr::test::bin("supervisor_giveup_probe")}, 60s);
  CAF_MESSAGE("stderr of the probe:\n" << res.err);
  CAF_CHECK_EQUAL(res.exit_code, istio_csr::actors::give_up_exit_code);
  auto give_up = line_with(res.err, "supervisor giving up");
  CAF_CHECK_NOT_EQUAL(give_up, "");
  CAF_CHECK(give_up.find("always-crashing") != std::string::npos);
  CAF_CHECK(give_up.find("simulated failure") != std::string::npos);
  // Each restart before it was logged with the child's name and reason.
  auto restart = line_with(res.err, "restarting child");
  CAF_CHECK(restart.find("always-crashing") != std::string::npos);
  CAF_CHECK(restart.find("simulated failure") != std::string::npos);
  CAF_CHECK_EQUAL(
    lines_with(res.err, "restarting child", "child=\"always-crashing\""), 3u);
  // The sibling was never restarted.
  CAF_CHECK_EQUAL(lines_with(res.err, "restarting child", "steady"), 0u);
  CAF_CHECK_EQUAL(lines_with(res.err, "exiting", "always-crashing"), 1u);
}
