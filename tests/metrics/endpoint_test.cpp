// The /metrics endpoint: plain HTTP on the bounded server of health/.
#define CAF_SUITE metrics.endpoint

#include "caf/test/unit_test.hpp"

#include <string>

#include "errors/describe.hpp"
#include "metrics/endpoint.hpp"
#include "tests/support/process.hpp"

using namespace istio_csr;
using namespace std::chrono_literals;

namespace {

/// curl's "<status>\n<content type>\n" then the body.
test::command_result get(std::uint16_t port, const std::string& path) {
  return test::run({test::program("curl"), "-sS", "-w",
                    "\n%{http_code} %{content_type}",
                    "http://127.0.0.1:" + std::to_string(port) + path},
                   30s);
}

} // namespace

CAF_TEST(metrics are served on their path only) {
  metrics::endpoint_settings s;
  s.address = "127.0.0.1";
  s.port = 0;
  metrics::endpoint ep{s};
  auto err = ep.start();
  CAF_REQUIRE(!err);
  CAF_REQUIRE_NOT_EQUAL(ep.port(), 0u);
  auto res = get(ep.port(), "/metrics");
  CAF_REQUIRE_EQUAL(res.exit_code, 0);
  CAF_CHECK(res.out.find("# TYPE cert_manager_istio_csr_grpc_server_started_"
                         "total counter")
            != std::string::npos);
  CAF_CHECK(res.out.find("\n200 text/plain; version=0.0.4; charset=utf-8")
            != std::string::npos);
  auto other = get(ep.port(), "/readyz");
  CAF_CHECK(other.out.find("\n404 ") != std::string::npos);
  ep.stop();
  ep.stop(); // idempotent
}
