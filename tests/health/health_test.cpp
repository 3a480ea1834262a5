#define CAF_SUITE health.readiness

#include "caf/test/unit_test.hpp"

#include <atomic>
#include <string>

#include "health/server.hpp"
#include "tests/support/http.hpp"

using namespace istio_csr;
using namespace istio_csr::test;

namespace {

http_result get(std::uint16_t port, const std::string& target) {
  auto r = curl_http(port, target);
  if (r.status == 0)
    CAF_MESSAGE(r.error);
  return r;
}

struct fixture {
  std::atomic<bool> tls_ok{true};
  std::atomic<bool> grpc_ok{true};
  std::unique_ptr<health::server> srv;

  void start(health::settings s = {}, bool with_checks = true) {
    s.address = "127.0.0.1";
    s.port = 0;
    srv = std::make_unique<health::server>(s);
    if (with_checks) {
      srv->add_check("tls_provider", [this]() -> std::optional<std::string> {
        if (tls_ok)
          return std::nullopt;
        return "no serving certificate";
      });
      srv->add_check("grpc_server", [this]() -> std::optional<std::string> {
        if (grpc_ok)
          return std::nullopt;
        return "not serving";
      });
    }
    CAF_REQUIRE(!srv->start());
    CAF_REQUIRE(srv->port() != 0);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(readiness_tests, fixture)

CAF_TEST(all checks passing answers ok) {
  start();
  auto r = get(srv->port(), "/readyz");
  CAF_CHECK_EQUAL(r.status, 200);
  CAF_CHECK_EQUAL(r.body, "ok");
  CAF_CHECK_EQUAL(get(srv->port(), "/readyz/").status, 200);
  auto v = get(srv->port(), "/readyz?verbose");
  CAF_CHECK_EQUAL(v.status, 200);
  CAF_CHECK_EQUAL(v.body, "[+]grpc_server ok\n[+]tls_provider ok\n"
                          "healthz check passed\n");
  auto one = get(srv->port(), "/readyz/tls_provider");
  CAF_CHECK_EQUAL(one.status, 200);
  CAF_CHECK_EQUAL(one.body, "ok");
}

CAF_TEST(a failing check fails readiness and names the check) {
  start();
  tls_ok = false;
  auto r = get(srv->port(), "/readyz");
  CAF_CHECK_EQUAL(r.status, 500);
  CAF_CHECK_EQUAL(r.body, "[+]grpc_server ok\n"
                          "[-]tls_provider failed: reason withheld\n"
                          "healthz check failed\n");
  auto one = get(srv->port(), "/readyz/tls_provider");
  CAF_CHECK_EQUAL(one.status, 500);
  CAF_CHECK_EQUAL(one.body, "internal server error: no serving certificate\n");
  auto other = get(srv->port(), "/readyz/grpc_server");
  CAF_CHECK_EQUAL(other.status, 200);
  // Excluding the failing check passes.
  auto ex = get(srv->port(), "/readyz?exclude=tls_provider");
  CAF_CHECK_EQUAL(ex.status, 200);
  CAF_CHECK_EQUAL(ex.body, "ok");
  auto exv = get(srv->port(), "/readyz?exclude=tls_provider&exclude=nope"
                              "&verbose=1");
  CAF_CHECK_EQUAL(exv.status, 200);
  CAF_CHECK_EQUAL(exv.body,
                  "[+]grpc_server ok\n[+]tls_provider excluded: ok\n"
                  "warn: some health checks cannot be excluded: no matches "
                  "for \"nope\"\nhealthz check passed\n");
  // Recovery is seen by the next probe.
  tls_ok = true;
  CAF_CHECK_EQUAL(get(srv->port(), "/readyz").status, 200);
  grpc_ok = false;
  CAF_CHECK_EQUAL(get(srv->port(), "/readyz").status, 500);
  CAF_CHECK_EQUAL(get(srv->port(), "/readyz/grpc_server").body,
                  "internal server error: not serving\n");
}

CAF_TEST(unknown paths and checks are not found) {
  start();
  auto r = get(srv->port(), "/readyz/nope");
  CAF_CHECK_EQUAL(r.status, 404);
  CAF_CHECK_EQUAL(r.body, "404 page not found\n");
  CAF_CHECK_EQUAL(get(srv->port(), "/healthz").status, 404);
  CAF_CHECK_EQUAL(get(srv->port(), "/readyzz").status, 404);
  CAF_CHECK_EQUAL(get(srv->port(), "/").status, 404);
  // With checks registered there is no implicit ping.
  CAF_CHECK_EQUAL(get(srv->port(), "/readyz/ping").status, 404);
}

CAF_TEST(without checks the endpoint pings) {
  start({}, false);
  CAF_CHECK_EQUAL(get(srv->port(), "/readyz").body, "ok");
  CAF_CHECK_EQUAL(get(srv->port(), "/readyz/ping").body, "ok");
  CAF_CHECK_EQUAL(get(srv->port(), "/readyz?verbose").body,
                  "[+]ping ok\nhealthz check passed\n");
}

CAF_TEST(a custom path is served) {
  health::settings s;
  s.path = "/custom/ready";
  start(s);
  CAF_CHECK_EQUAL(get(srv->port(), "/custom/ready").status, 200);
  CAF_CHECK_EQUAL(get(srv->port(), "/custom/ready/grpc_server").status, 200);
  CAF_CHECK_EQUAL(get(srv->port(), "/readyz").status, 404);
}

CAF_TEST(checks can be added while serving) {
  start({}, false);
  CAF_CHECK_EQUAL(get(srv->port(), "/readyz").status, 200);
  srv->add_check("late", [] { return std::optional<std::string>{"not yet"}; });
  CAF_CHECK_EQUAL(get(srv->port(), "/readyz").status, 500);
  CAF_CHECK_EQUAL(get(srv->port(), "/readyz/late").status, 500);
}

CAF_TEST(a stopped server refuses probes) {
  start();
  auto port = srv->port();
  CAF_CHECK_EQUAL(get(port, "/readyz").status, 200);
  srv->stop();
  CAF_CHECK_EQUAL(get(port, "/readyz").status, 0);
}

CAF_TEST_FIXTURE_SCOPE_END()
