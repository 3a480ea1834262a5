// istio-agent's retry policy as csrctl load and the tests apply it
// (docs/istio-clients.md §A.2): which codes, how many attempts, which waits.

#define CAF_SUITE csrctl.agent_retry

#include "caf/test/unit_test.hpp"

#include <vector>

#include "csrctl/agent_retry.hpp"
#include "csrctl/ca_call.hpp"

using namespace std::chrono_literals;
using istio_csr::csrctl::agent_retry;
using istio_csr::csrctl::status_code_name;

CAF_TEST(exactly six codes are retried) {
  std::vector<std::string> retried;
  for (int code = 0; code <= 16; ++code)
    if (agent_retry::retried_code(code))
      retried.push_back(status_code_name(code));
  CAF_CHECK_EQUAL(retried,
                  (std::vector<std::string>{"CANCELLED", "DEADLINE_EXCEEDED",
                                            "RESOURCE_EXHAUSTED", "ABORTED",
                                            "INTERNAL", "UNAVAILABLE"}));
  CAF_CHECK(!agent_retry::retried_code(-1));
  CAF_CHECK(!agent_retry::retried_code(17));
}

CAF_TEST(five attempts with waits of 100 ms doubling) {
  CAF_CHECK_EQUAL(agent_retry::max_attempts, 5);
  auto b = agent_retry::backoff();
  using ns = std::chrono::nanoseconds;
  CAF_CHECK_EQUAL(b.delay(1), ns{100ms});
  CAF_CHECK_EQUAL(b.delay(2), ns{200ms});
  CAF_CHECK_EQUAL(b.delay(3), ns{400ms});
  CAF_CHECK_EQUAL(b.delay(4), ns{800ms});
}

CAF_TEST(the jitter is ten percent either way) {
  auto b = agent_retry::backoff();
  using ns = std::chrono::nanoseconds;
  CAF_CHECK_EQUAL(b.delay(1, 0.0), ns{90ms});
  CAF_CHECK_EQUAL(b.delay(1, 1.0), ns{110ms});
  CAF_CHECK_EQUAL(b.delay(4, 0.0), ns{720ms});
  CAF_CHECK_EQUAL(b.delay(4, 1.0), ns{880ms});
  CAF_CHECK_EQUAL(b.delay(2, 0.5), ns{200ms});
}
