// Requests whose requester is gone are not sent (`request::cancel`,
// `kube::cancel_scope`, a stopped informer's list pages): while they wait
// for the rate limiter or a retry's backoff they complete `errc::cancelled`
// at once; an attempt on the wire completes as usual. Against the in-test
// HTTPS server, which records every request it receives.

#define CAF_SUITE kube.cancel
#include "caf/test/unit_test.hpp"

#include <future>

#include "caf/event_based_actor.hpp"
#include "caf/exit_reason.hpp"
#include "caf/send.hpp"
#include "caf/stateful_actor.hpp"

#include "errors/describe.hpp"
#include "kube/api/errc.hpp"
#include "kube/client/cancel_scope.hpp"
#include "kube/client/client.hpp"
#include "kube/client/client_actor.hpp"
#include "kube/client/informer.hpp"
#include "tests/kube/client/helpers.hpp"
#include "tests/kube/client/test_server.hpp"
#include "tests/support/actors.hpp"
#include "tests/support/process.hpp"

using namespace istio_csr;
using namespace istio_csr::kube;
using namespace std::chrono_literals;
using istio_csr::kube::testing::actor_system_fixture;
using istio_csr::kube::testing::config_for;
using istio_csr::kube::testing::gate;
using istio_csr::kube::testing::make_client;
using istio_csr::test::https_test_server;
using istio_csr::test::request_info;
using istio_csr::test::wait_until;
using json = nlohmann::json;
using conn_t = https_test_server::connection;

namespace {

using result_future = std::future<caf::expected<json>>;

/// Starts `req` on `cli`; its completion arrives in the future.
result_future start(client& cli, request req) {
  auto p = std::make_shared<std::promise<caf::expected<json>>>();
  auto f = p->get_future();
  cli.execute(std::move(req),
              [p](caf::expected<json> r) { p->set_value(std::move(r)); });
  return f;
}

/// Waits for `f`; the test fails if it does not complete within 10 s.
caf::expected<json> wait_for(result_future& f) {
  if (f.wait_for(10s) != std::future_status::ready)
    CAF_FAIL("the request did not complete");
  return f.get();
}

/// Whether `r` is the error of a request its requester cancelled.
bool cancelled_unsent(const caf::expected<json>& r) {
  return !r && is(r.error(), errc::cancelled)
         && errors::message(r.error()).find("not sent") != std::string::npos;
}

request get_namespace(const std::string& name) {
  return request::get(resources::namespaces, "", name);
}

/// A server that answers every request at once.
https_test_server::handler answer_ok() {
  return [](const request_info&, conn_t& c) { c.respond(200, "{}"); };
}

/// One request at once, then one every 10 s: the rest wait.
client_config slow_limiter(const https_test_server& srv) {
  auto cfg = config_for(srv);
  cfg.qps = 0.1;
  cfg.burst = 1;
  return cfg;
}

} // namespace

CAF_TEST(requests cancelled while waiting for the rate limiter are never sent) {
  https_test_server srv{answer_ok()};
  auto cli = make_client(slow_limiter(srv));
  cancel_scope requester;
  auto first = start(*cli, requester.bind(get_namespace("a")));
  CAF_REQUIRE(wait_for(first));
  std::vector<result_future> queued;
  for (auto name : {"b", "c", "d"})
    queued.push_back(start(*cli, requester.bind(get_namespace(name))));
  CAF_REQUIRE(wait_until([&] { return cli->stats().throttled == 3; }, 10s));
  requester.cancel();
  // They end at once (not when their tokens are due, 10 s apart)...
  auto stopped = std::chrono::steady_clock::now();
  for (auto& f : queued)
    CAF_CHECK(cancelled_unsent(wait_for(f)));
  CAF_CHECK_LESS(std::chrono::steady_clock::now() - stopped, 5s);
  // ... and none reached the server.
  CAF_CHECK_EQUAL(srv.requests().size(), 1u);
  CAF_CHECK_EQUAL(cli->stats().cancelled, 3u);
  CAF_CHECK_EQUAL(cli->stats().requests, 1u);
}

CAF_TEST(a request cancelled before it starts is never sent) {
  https_test_server srv{answer_ok()};
  auto cli = make_client(config_for(srv));
  cancel_scope requester;
  requester.cancel();
  auto f = start(*cli, requester.bind(get_namespace("a")));
  CAF_CHECK(cancelled_unsent(wait_for(f)));
  CAF_CHECK_EQUAL(srv.requests().size(), 0u);
  CAF_CHECK_EQUAL(cli->stats().cancelled, 1u);
}

CAF_TEST(a request cancelled during a retry backoff is not retried) {
  https_test_server srv{[](const request_info&, conn_t& c) {
    c.respond(503, R"({"kind":"Status","code":503,"message":"busy"})");
  }};
  // A read is retried after a 503; the backoff is 5 to 10 s here.
  auto cli = make_client(config_for(srv), {}, 10s);
  cancel_scope requester;
  auto f = start(*cli, requester.bind(get_namespace("a")));
  CAF_REQUIRE(wait_until([&] { return srv.requests().size() == 1; }, 10s));
  requester.cancel();
  CAF_CHECK(cancelled_unsent(wait_for(f)));
  CAF_CHECK_EQUAL(srv.requests().size(), 1u);
  CAF_CHECK_EQUAL(cli->stats().retries, 0u);
}

CAF_TEST(a request on the wire completes as usual when cancelled) {
  gate release;
  https_test_server srv{[&](const request_info&, conn_t& c) {
    release.wait();
    c.respond(200, R"({"kind":"Namespace"})");
  }};
  auto cli = make_client(config_for(srv));
  cancel_scope requester;
  auto f = start(*cli, requester.bind(get_namespace("a")));
  CAF_REQUIRE(wait_until([&] { return srv.requests().size() == 1; }, 10s));
  requester.cancel();
  release.release();
  auto r = wait_for(f);
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(r->value("kind", ""), "Namespace");
  CAF_CHECK_EQUAL(cli->stats().cancelled, 0u);
}

CAF_TEST(a stopped informer sends no list page that still waits) {
  // Every page says there is more: the second one waits for the limiter.
  https_test_server srv{[](const request_info&, conn_t& c) {
    c.respond(200, R"({"kind":"ConfigMapList","apiVersion":"v1",)"
                   R"("metadata":{"resourceVersion":"1","continue":"more"},)"
                   R"("items":[]})");
  }};
  auto cli = make_client(slow_limiter(srv));
  informer_options opts;
  opts.res = resources::configmaps;
  opts.namespace_ = "ns";
  opts.page_size = 1;
  auto inf = informer::make(cli, opts, [](const informer_event&) {});
  inf->start();
  CAF_REQUIRE(wait_until(
    [&] { return srv.requests().size() == 1 && cli->stats().throttled == 1; },
    10s));
  inf->stop();
  CAF_CHECK(wait_until([&] { return cli->stats().cancelled == 1; }, 10s));
  CAF_CHECK_EQUAL(srv.requests().size(), 1u);
}

namespace {

struct requester_state {
  kube::cancel_scope kube_calls;
  static inline const char* name = "test-requester";
};

/// Sends `n` reads through `kube` at once, bound to its scope; never
/// handles an answer (it is killed before).
caf::behavior requester(caf::stateful_actor<requester_state>* self,
                        client_actor kube, int n) {
  for (int i = 0; i < n; ++i)
    self
      ->request(
        kube, caf::infinite,
        self->state.kube_calls.bind(get_namespace("ns-" + std::to_string(i))))
      .then([](response&) {}, [](caf::error&) {});
  return {[](int) {}};
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(cancel_actors, actor_system_fixture)

CAF_TEST(queued requests of a killed actor never reach the server) {
  https_test_server srv{answer_ok()};
  auto cli = make_client(slow_limiter(srv));
  auto facade = spawn_client_actor(sys, cli);
  auto req = sys.spawn(requester, facade, 4);
  // The first goes out at once, three wait for the rate limiter.
  CAF_REQUIRE(wait_until(
    [&] { return srv.requests().size() == 1 && cli->stats().throttled == 3; },
    10s));
  // Killed as leader-only actors are when leadership is lost: its state,
  // and with it its cancel scope, goes with it.
  CAF_REQUIRE(test::stop_and_wait(sys, caf::actor_cast<caf::actor>(req),
                                  caf::exit_reason::kill, 10s));
  CAF_CHECK(wait_until([&] { return cli->stats().cancelled == 3; }, 10s));
  CAF_CHECK_EQUAL(srv.requests().size(), 1u);
  CAF_CHECK(test::stop_and_wait(sys, caf::actor_cast<caf::actor>(facade),
                                caf::exit_reason::user_shutdown, 10s));
}

CAF_TEST_FIXTURE_SCOPE_END()
