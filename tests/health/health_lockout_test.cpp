#define CAF_SUITE health.lockout

#include "caf/test/unit_test.hpp"

#include <sys/socket.h>

#include "health/server.hpp"
#include "tests/support/process.hpp"
#include "tests/support/sockets.hpp"

using namespace istio_csr;
using namespace istio_csr::test;

namespace {

/// The status of GET /readyz from curl (a fresh connection, as kubelet), 0
/// if it got no answer within 2 s.
int probe(std::uint16_t port) {
  auto res = run({program("curl"), "-s", "-m", "2", "-o", "/dev/null", "-w",
                  "%{http_code}",
                  "http://127.0.0.1:" + std::to_string(port) + "/readyz"},
                 10s);
  return res.exit_code == 0 ? std::stoi(res.out) : 0;
}

struct fixture {
  std::unique_ptr<health::server> srv;

  void start(health::settings s = {}) {
    s.address = "127.0.0.1";
    s.port = 0;
    srv = std::make_unique<health::server>(s);
    srv->add_check("ok", [] { return std::optional<std::string>{}; });
    CAF_REQUIRE(!srv->start());
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(lockout_tests, fixture)

// Before: 64 idle connections made every probe fail (NotReady everywhere).
CAF_TEST(idle connections do not fail the readiness probe) {
  CAF_REQUIRE_GREATER_OR_EQUAL(raise_fd_limit(), 512u);
  start();
  auto idle = idle_sockets(srv->port(), 100);
  CAF_REQUIRE_EQUAL(idle.size(), 100u);
  // The newest 64 stay; each newcomer evicted the oldest.
  CAF_CHECK(wait_until([&] { return closed_count(idle) >= 36; }, 10s));
  CAF_CHECK_EQUAL(probe(srv->port()), 200);
  CAF_CHECK_EQUAL(probe(srv->port()), 200);
  // The first probe replaced the oldest idle connection left (the second
  // found the first one's place free); the newest are still open.
  CAF_CHECK(wait_until([&] { return closed_count(idle) >= 37; }, 10s));
  CAF_CHECK(!closed_by_peer(idle.back().get(), 0ms));
}

CAF_TEST(connections stuck in a request do not fail the probe either) {
  CAF_REQUIRE_GREATER_OR_EQUAL(raise_fd_limit(), 512u);
  start();
  auto slow = idle_sockets(srv->port(), 64);
  CAF_REQUIRE_EQUAL(slow.size(), 64u);
  for (const auto& fd : slow)
    CAF_REQUIRE_EQUAL(::send(fd.get(), "GET /re", 7, MSG_NOSIGNAL), 7);
  CAF_CHECK_EQUAL(probe(srv->port()), 200);
  CAF_CHECK(wait_until([&] { return closed_by_peer(slow[0].get(), 0ms); }, 5s));
}

CAF_TEST(a connection that sends nothing is closed after the deadline) {
  health::settings s;
  s.first_bytes_timeout = 300ms;
  start(s);
  auto fd = tcp_connect(srv->port());
  CAF_REQUIRE(fd.valid());
  auto t0 = std::chrono::steady_clock::now();
  CAF_CHECK(closed_by_peer(fd.get(), 5000ms));
  CAF_CHECK(std::chrono::steady_clock::now() - t0 >= 250ms);
  // So is a kept-alive connection that sends no next request.
  auto keep = tcp_connect(srv->port());
  std::string req = "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n";
  CAF_REQUIRE_EQUAL(::send(keep.get(), req.data(), req.size(), MSG_NOSIGNAL),
                    static_cast<ssize_t>(req.size()));
  CAF_CHECK(closed_by_peer(keep.get(), 5000ms));
  CAF_CHECK_EQUAL(probe(srv->port()), 200);
}

CAF_TEST(pipelined requests on one connection are all answered) {
  start();
  auto fd = tcp_connect(srv->port());
  std::string two = "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n"
                    "GET /readyz/ok HTTP/1.1\r\nHost: x\r\nConnection: close"
                    "\r\n\r\n";
  CAF_REQUIRE_EQUAL(::send(fd.get(), two.data(), two.size(), MSG_NOSIGNAL),
                    static_cast<ssize_t>(two.size()));
  std::string got;
  char buf[4096];
  for (;;) {
    auto n = ::recv(fd.get(), buf, sizeof(buf), 0);
    if (n <= 0)
      break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  std::size_t answers = 0;
  for (auto pos = got.find("HTTP/1.1 200 OK"); pos != std::string::npos;
       pos = got.find("HTTP/1.1 200 OK", pos + 1))
    ++answers;
  CAF_CHECK_EQUAL(answers, 2u);
}

CAF_TEST_FIXTURE_SCOPE_END()
