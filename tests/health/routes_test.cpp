// Routes of the HTTP server of health/ (the /metrics and debug endpoints):
// what a route sees of the request, answers from other threads and later,
// the deadline of an answer, and answers that come after the server is gone.
#define CAF_SUITE health.routes

#include "caf/test/unit_test.hpp"

#include <mutex>
#include <optional>
#include <thread>

#include "health/server.hpp"
#include "tests/support/process.hpp"

using namespace istio_csr;
using namespace istio_csr::test;

namespace {

/// What the route saw, and its responder.
struct slot {
  std::mutex mtx;
  std::string method;
  std::string target;
  std::string header;
  std::optional<health::responder> reply;

  bool filled() {
    std::lock_guard<std::mutex> guard{mtx};
    return reply.has_value();
  }

  health::responder take() {
    std::lock_guard<std::mutex> guard{mtx};
    return *reply;
  }
};

/// A server whose route keeps the request for the test to answer.
std::unique_ptr<health::server> start(std::shared_ptr<slot> s,
                                      std::chrono::milliseconds timeout = 10s) {
  health::settings hs;
  hs.address = "127.0.0.1";
  hs.port = 0;
  hs.request_timeout = timeout;
  hs.handler = [s](const health::request& req, health::responder reply) {
    std::lock_guard<std::mutex> guard{s->mtx};
    s->method = std::string{req.method};
    s->target = std::string{req.target};
    s->header = std::string{req.header("x-test").value_or("")};
    s->reply = std::move(reply);
  };
  auto srv = std::make_unique<health::server>(hs);
  CAF_REQUIRE(!srv->start());
  return srv;
}

/// curl in the background: headers and body on stdout, then the status.
std::unique_ptr<child_process> curl(std::uint16_t port,
                                    const std::string& target) {
  auto proc = child_process::spawn(
    {program("curl"), "-s", "-D", "-", "-X", "POST", "-H", "X-Test: yes", "-o",
     "-", "-w", "\n%{http_code}",
     "http://127.0.0.1:" + std::to_string(port) + target});
  CAF_REQUIRE(proc != nullptr);
  return proc;
}

} // namespace

CAF_TEST(a route sees the request and answers later from another thread) {
  auto s = std::make_shared<slot>();
  auto srv = start(s);
  auto client = curl(srv->port(), "/debug/x?y=1");
  CAF_REQUIRE(wait_until([&] { return s->filled(); }, 20s));
  CAF_CHECK_EQUAL(s->method, "POST");
  CAF_CHECK_EQUAL(s->target, "/debug/x?y=1");
  CAF_CHECK_EQUAL(s->header, "yes");
  // No answer yet: the client waits.
  CAF_CHECK(client->running());
  auto reply = s->take();
  std::thread other{[reply] {
    reply({201, "application/json", "{}", {{"Allow", "GET"}}});
  }};
  other.join();
  reply({500, "text/plain", "second answer", {}}); // ignored
  CAF_REQUIRE_EQUAL(client->wait_exit(20s), 0);
  auto out = client->out();
  CAF_CHECK(out.find("HTTP/1.1 201") != std::string::npos);
  CAF_CHECK(out.find("Allow: GET") != std::string::npos);
  CAF_CHECK(out.find("Content-Type: application/json") != std::string::npos);
  CAF_CHECK(out.find("{}\n201") != std::string::npos);
  CAF_CHECK(out.find("second answer") == std::string::npos);
}

CAF_TEST(a route that does not answer in time makes a 503) {
  auto s = std::make_shared<slot>();
  auto srv = start(s, 300ms);
  auto client = curl(srv->port(), "/slow");
  CAF_REQUIRE_EQUAL(client->wait_exit(20s), 0);
  CAF_CHECK(client->out().find("no answer in time\n\n503")
            != std::string::npos);
  // The late answer and one after the server is gone go nowhere.
  CAF_REQUIRE(s->filled());
  auto reply = s->take();
  reply({200, "text/plain", "late", {}});
  srv.reset();
  reply({200, "text/plain", "later", {}});
}
