#define CAF_SUITE grpc_bridge.admission

#include "tests/grpc_bridge/fixture.hpp"

#include <future>

#include <sys/socket.h>

#include "grpc_bridge/tls/admission.hpp"
#include "tests/support/sockets.hpp"

using namespace istio_csr;
using namespace istio_csr::test;
using grpc_bridge::admission;

namespace {

using ids = std::vector<admission::id_type>;

admission::actions accept(admission& a, admission::id_type id,
                          const std::string& source = "10.0.0.1") {
  return a.accept(id, source);
}

} // namespace

CAF_TEST(a connection takes a handshake slot only with its first bytes) {
  admission a{{10, 2, 10}};
  for (admission::id_type id = 1; id <= 5; ++id)
    CAF_CHECK(accept(a, id).admitted);
  CAF_CHECK_EQUAL(a.current().silent, 5u);
  CAF_CHECK_EQUAL(a.current().handshaking, 0u);
  CAF_CHECK(a.first_bytes(4));
  CAF_CHECK(a.first_bytes(2));
  // Both slots taken: the next ready ones wait, in order.
  CAF_CHECK(!a.first_bytes(5));
  CAF_CHECK(!a.first_bytes(1));
  CAF_CHECK_EQUAL(a.current().queued, 2u);
  CAF_CHECK_EQUAL(a.current().silent, 1u);
  CAF_CHECK_EQUAL(a.established(4).granted, ids{5});
  CAF_CHECK_EQUAL(a.closed(2).granted, ids{1});
  CAF_CHECK_EQUAL(a.current().handshaking, 2u);
  CAF_CHECK_EQUAL(a.current().queued, 0u);
  // A queued connection that closes leaves the line.
  CAF_CHECK(accept(a, 6).admitted);
  CAF_CHECK(!a.first_bytes(6));
  CAF_CHECK(a.closed(6).granted.empty());
  CAF_CHECK(a.closed(5).granted.empty());
  CAF_CHECK_EQUAL(a.current().handshaking, 1u);
  // Unknown and repeated events change nothing.
  CAF_CHECK(a.closed(42).granted.empty());
  CAF_CHECK(!a.first_bytes(42));
  CAF_CHECK(!a.first_bytes(1));
  CAF_CHECK(a.established(42).granted.empty());
  CAF_CHECK_EQUAL(a.current().total, 3u); // 1, 3, 4
}

CAF_TEST(a source beyond its cap evicts its own oldest pending connection) {
  admission a{{100, 10, 3}};
  CAF_CHECK(accept(a, 1, "a").admitted);
  CAF_CHECK(accept(a, 2, "a").admitted);
  CAF_CHECK(accept(a, 3, "a").admitted);
  CAF_CHECK(accept(a, 4, "b").admitted);
  // Silent ones go first, oldest first: 1 is handshaking, 2 is silent.
  CAF_CHECK(a.first_bytes(1));
  auto r = accept(a, 5, "a");
  CAF_CHECK(r.admitted);
  CAF_CHECK_EQUAL(r.evicted, ids{2});
  // No silent one left: the oldest waiting one, then the oldest
  // handshaking one.
  CAF_CHECK(a.first_bytes(3));
  CAF_CHECK(a.first_bytes(5));
  CAF_CHECK_EQUAL(accept(a, 6, "a").evicted, ids{1});
  // Established connections do not count against the cap.
  CAF_CHECK(a.first_bytes(6));
  CAF_CHECK(a.established(3).granted.empty());
  CAF_CHECK(a.established(5).granted.empty());
  CAF_CHECK(accept(a, 7, "a").evicted.empty());
  CAF_CHECK(accept(a, 8, "a").evicted.empty());
  // Another source was never touched.
  CAF_CHECK_EQUAL(a.current().total, 6u); // 3, 4, 5, 6, 7, 8
}

CAF_TEST(an evicted handshake frees its slot for a waiting one) {
  admission a{{100, 2, 2}};
  CAF_CHECK(accept(a, 1, "a").admitted);
  CAF_CHECK(a.first_bytes(1));
  CAF_CHECK(accept(a, 2, "a").admitted);
  CAF_CHECK(a.first_bytes(2));
  CAF_CHECK(accept(a, 3, "b").admitted);
  CAF_CHECK(!a.first_bytes(3));
  // Source a holds both slots and its cap: its oldest handshake goes, and
  // b's waiting connection gets the slot.
  auto r = accept(a, 4, "a");
  CAF_CHECK(r.admitted);
  CAF_CHECK_EQUAL(r.evicted, ids{1});
  CAF_CHECK_EQUAL(r.granted, ids{3});
  CAF_CHECK_EQUAL(a.current().handshaking, 2u);
  CAF_CHECK_EQUAL(a.current().queued, 0u);
}

CAF_TEST(at the connection limit the oldest silent connection makes room) {
  admission a{{3, 10, 10}};
  CAF_CHECK(accept(a, 1, "a").admitted);
  CAF_CHECK(accept(a, 2, "b").admitted);
  CAF_CHECK(accept(a, 3, "c").admitted);
  CAF_CHECK(a.first_bytes(1));
  auto r = accept(a, 4, "d");
  CAF_CHECK(r.admitted);
  CAF_CHECK_EQUAL(r.evicted, ids{2});
  CAF_CHECK(a.first_bytes(3));
  CAF_CHECK(a.first_bytes(4));
  // Nobody silent: the newcomer is refused.
  r = accept(a, 5, "e");
  CAF_CHECK(!r.admitted);
  CAF_CHECK(r.evicted.empty());
  CAF_CHECK_EQUAL(a.current().total, 3u);
}

CAF_TEST_FIXTURE_SCOPE(admission_tests, bridge_fixture)

// Before: 520 such sockets took all 512 handshake slots and every new
// client was closed at once.
CAF_TEST(hundreds of idle sockets do not lock out real clients) {
  CAF_REQUIRE_GREATER_OR_EQUAL(raise_fd_limit(), 2000u);
  start();
  auto defaults = default_settings().transport;
  // From another address: they cost no handshake slot, and the per-source
  // cap keeps at most 64 of them.
  auto others = idle_sockets(srv->port(), 600, "127.0.0.2");
  CAF_REQUIRE_EQUAL(others.size(), 600u);
  CAF_CHECK(
    wait_until([&] { return srv->transport_stats().accepted >= 600; }, 20s));
  CAF_CHECK(wait_until(
    [&] {
      return closed_count(others) >= 600 - defaults.max_pending_per_source;
    },
    20s));
  CAF_CHECK_LESS_OR_EQUAL(srv->transport_stats().silent,
                          defaults.max_pending_per_source);
  // None of them holds a handshake slot (earlier connections may still be
  // finishing theirs).
  CAF_CHECK(
    wait_until([&] { return srv->transport_stats().handshaking == 0; }, 5s));
  auto ch = channel();
  CAF_CHECK(create_certificate(*ch, "other-source").status.ok());
  // From the client's own address: the newcomer evicts the oldest idle one.
  auto same = idle_sockets(srv->port(), 600, "127.0.0.1");
  CAF_REQUIRE_EQUAL(same.size(), 600u);
  CAF_CHECK(
    wait_until([&] { return srv->transport_stats().accepted >= 1201; }, 20s));
  auto ch2 = channel();
  CAF_CHECK(create_certificate(*ch2, "same-source").status.ok());
  auto stats = srv->transport_stats();
  CAF_CHECK_EQUAL(stats.rejected, 0u);
  CAF_CHECK_GREATER_OR_EQUAL(stats.evicted, 2 * (600 - 64u));
  CAF_CHECK_LESS_OR_EQUAL(stats.silent, 2 * 64u);
  CAF_CHECK_EQUAL(stats.handshakes_ok, 2u);
}

CAF_TEST(a silent connection is closed after the first bytes timeout) {
  auto settings = default_settings();
  settings.transport.first_bytes_timeout = 300ms;
  start(settings);
  auto fd = tcp_connect(srv->port());
  CAF_REQUIRE(fd.valid());
  auto t0 = std::chrono::steady_clock::now();
  CAF_CHECK(closed_by_peer(fd.get(), 5000ms));
  CAF_CHECK(std::chrono::steady_clock::now() - t0 >= 250ms);
  CAF_CHECK(wait_until(
    [&] { return srv->transport_stats().silent_timeouts == 1; }, 5s));
  CAF_CHECK_EQUAL(srv->transport_stats().handshakes_failed, 0u);
}

CAF_TEST(a ready client waits for a handshake slot instead of being closed) {
  auto settings = default_settings();
  settings.transport.max_handshakes = 1;
  start(settings);
  // A client that sends one byte of a ClientHello and stalls holds the
  // only slot.
  auto staller = tcp_connect(srv->port(), "127.0.0.4");
  CAF_REQUIRE(staller.valid());
  CAF_REQUIRE_EQUAL(::send(staller.get(), "\x16", 1, MSG_NOSIGNAL), 1);
  CAF_REQUIRE(
    wait_until([&] { return srv->transport_stats().handshaking == 1; }, 10s));
  auto pending = std::async(std::launch::async, [&] {
    auto ch = channel();
    return create_certificate(*ch, "waited", 20s);
  });
  CAF_REQUIRE(
    wait_until([&] { return srv->transport_stats().waiting == 1; }, 10s));
  // The slot frees: the waiting client gets it.
  staller.reset();
  auto res = pending.get();
  CAF_CHECK(res.status.ok());
  auto stats = srv->transport_stats();
  CAF_CHECK_EQUAL(stats.rejected, 0u);
  CAF_CHECK_EQUAL(stats.handshakes_ok, 1u);
  CAF_CHECK(
    wait_until([&] { return srv->transport_stats().waiting == 0; }, 5s));
}

CAF_TEST(a waiting client gives up at its handshake timeout) {
  auto settings = default_settings();
  settings.transport.max_handshakes = 1;
  settings.transport.handshake_timeout = 500ms;
  start(settings);
  auto staller = tcp_connect(srv->port(), "127.0.0.4");
  CAF_REQUIRE_EQUAL(::send(staller.get(), "\x16", 1, MSG_NOSIGNAL), 1);
  CAF_REQUIRE(
    wait_until([&] { return srv->transport_stats().handshaking == 1; }, 10s));
  auto waiter = tcp_connect(srv->port(), "127.0.0.5");
  auto t0 = std::chrono::steady_clock::now();
  CAF_REQUIRE_EQUAL(::send(waiter.get(), "\x16", 1, MSG_NOSIGNAL), 1);
  CAF_REQUIRE(
    wait_until([&] { return srv->transport_stats().waiting == 1; }, 10s));
  CAF_CHECK(closed_by_peer(waiter.get(), 5000ms));
  CAF_CHECK(std::chrono::steady_clock::now() - t0 >= 450ms);
  CAF_CHECK(closed_by_peer(staller.get(), 5000ms));
  CAF_CHECK(wait_until(
    [&] { return srv->transport_stats().handshakes_failed == 2; }, 5s));
  // The counters of a closed connection drop once its last handler ran.
  CAF_CHECK(wait_until(
    [&] {
      auto st = srv->transport_stats();
      return st.waiting == 0 && st.handshaking == 0;
    },
    5s));
}

CAF_TEST(at max connections an idle socket makes room for a client) {
  auto settings = default_settings();
  settings.transport.max_connections = 3;
  start(settings);
  auto ch = channel();
  CAF_REQUIRE(create_certificate(*ch, "first").status.ok());
  auto idle = idle_sockets(srv->port(), 2, "127.0.0.6");
  CAF_REQUIRE_EQUAL(idle.size(), 2u);
  CAF_REQUIRE(
    wait_until([&] { return srv->transport_stats().silent == 2; }, 10s));
  // The established client and two idle sockets: a new client evicts the
  // older idle one.
  auto ch2 = channel();
  CAF_CHECK(create_certificate(*ch2, "second").status.ok());
  CAF_CHECK(closed_by_peer(idle[0].get(), 5000ms));
  CAF_CHECK(!closed_by_peer(idle[1].get(), 0ms));
  CAF_CHECK_EQUAL(srv->transport_stats().evicted, 1u);
  CAF_CHECK_EQUAL(srv->transport_stats().rejected, 0u);
  // The established connections are never evicted.
  CAF_CHECK(create_certificate(*ch, "again").status.ok());
  CAF_CHECK_EQUAL(srv->transport_stats().handshakes_ok, 2u);
}

CAF_TEST_FIXTURE_SCOPE_END()
