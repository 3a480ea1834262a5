#define CAF_SUITE actors.stable_handle

#include "tests/actors/supervisor/supervisor_fixture.hpp"

#include "actors/supervisor/proxy.hpp"

using namespace istio_csr::actors;
using namespace istio_csr::actors::test;

using ints = std::vector<int>;

CAF_TEST_FIXTURE_SCOPE(stable_handle_tests, fixture)

CAF_TEST(messages wait for the first incarnation and keep their order) {
  auto proxy = spawn_proxy(sys, "w");
  helpers.push_back(proxy);
  self->send(proxy, append_atom::value, 1);
  auto who = ask<int>(proxy, whoami_atom::value);
  self->send(proxy, append_atom::value, 2);
  sched.run();
  CAF_CHECK(!who->done);
  auto w = sys.spawn(worker, "w", 7, p, caf::actor{});
  helpers.push_back(w);
  self->send(proxy, detail::proxy_attach{w});
  sched.run();
  CAF_REQUIRE(who->done);
  CAF_CHECK_EQUAL(who->value, 7);
  CAF_CHECK_EQUAL(value_of(ask<ints>(proxy, received_atom::value)),
                  ints({1, 2}));
}

CAF_TEST(responses of any shape are relayed to the requester) {
  auto proxy = spawn_proxy(sys, "w");
  auto w = sys.spawn(worker, "w", 0, p, caf::actor{});
  helpers.push_back(proxy);
  helpers.push_back(w);
  self->send(proxy, detail::proxy_attach{w});
  sched.run();
  CAF_CHECK_EQUAL(value_of(ask<int>(proxy, caf::add_atom::value, 3)), 3);
  // An empty response (a handler returning void).
  auto empty = ask_void(proxy, append_atom::value, 9);
  sched.run();
  CAF_REQUIRE(empty->done);
  CAF_CHECK(empty->value.has_value());
  CAF_CHECK_EQUAL(value_of(ask<ints>(proxy, received_atom::value)), ints({9}));
  // An error response, including one a requester cannot tell from CAF's
  // own unexpected_response unless the proxy relays it as it is.
  auto unexpected = ask<int>(proxy, std::string{"no handler for this"});
  sched.run();
  CAF_REQUIRE(unexpected->done);
  CAF_CHECK_EQUAL(unexpected->err, caf::sec::unexpected_message);
  auto crashed = ask<int>(proxy, crash_atom::value);
  sched.run();
  CAF_REQUIRE(crashed->done);
  CAF_CHECK_EQUAL(crashed->err, caf::sec::runtime_error);
}

CAF_TEST(stopping a stable handle fails the requests it holds) {
  auto proxy = spawn_proxy(sys, "w");
  auto waiting = ask<int>(proxy, whoami_atom::value);
  sched.run();
  CAF_CHECK(!waiting->done);
  caf::anon_send_exit(proxy, caf::exit_reason::user_shutdown);
  sched.run();
  CAF_REQUIRE(waiting->done);
  CAF_CHECK_EQUAL(waiting->err.category(), supervisor_error_category);
  CAF_CHECK_EQUAL(waiting->err.code(),
                  static_cast<uint8_t>(supervisor_errc::child_stopped));
  CAF_CHECK_EQUAL(
    sys.render(waiting->err).find("child_stopped") != std::string::npos, true);
  auto late = ask<int>(proxy, whoami_atom::value);
  sched.run();
  CAF_REQUIRE(late->done);
  CAF_CHECK_EQUAL(late->err, caf::sec::request_receiver_down);
}

CAF_TEST_FIXTURE_SCOPE_END()
