#define CAF_SUITE actors.supervisor_threads

// The stable handle's guarantees under a real, multi-threaded scheduler:
// requests race with crashes, down messages and restarts without backoff.

#include "caf/all.hpp"
#include "caf/test/unit_test.hpp"

#include <chrono>
#include <memory>

#include "actors/supervisor/supervisor.hpp"
#include "actors/system/system_config.hpp"

using namespace istio_csr::actors;
using namespace std::chrono_literals;

namespace {

using crash_atom = caf::atom_constant<caf::atom("th_crash")>;
using whoami_atom = caf::atom_constant<caf::atom("th_whoami")>;
using done_atom = caf::atom_constant<caf::atom("th_done")>;

caf::behavior flaky(caf::event_based_actor* self, int incarnation) {
  self->set_exception_handler([](std::exception_ptr&) -> caf::error {
    return caf::make_error(caf::sec::runtime_error, "crash");
  });
  return {
    [=](whoami_atom) { return incarnation; },
    [=](crash_atom) -> int { throw std::runtime_error("crash"); },
  };
}

struct tally {
  int answered = 0; // whoami answered with a value
  int failed = 0;   // whoami answered with an error
  int crashes = 0;  // crash requests (answered with the crash's error)
};

/// One crash request per this many whoami requests.
constexpr int crash_every = 20;

/// Sends `n` whoami requests and, after every `crash_every`th, a request
/// that crashes the incarnation handling it, all at once; reports (done,
/// answered, failed, crashes) to `collector` once everything is answered.
void requester(caf::event_based_actor* self, caf::actor target,
               caf::actor collector, int n) {
  auto t = std::make_shared<tally>();
  auto expected = n + n / crash_every;
  auto finish = [=] {
    if (t->answered + t->failed + t->crashes == expected)
      self->send(collector, done_atom::value, t->answered, t->failed,
                 t->crashes);
  };
  for (int i = 0; i < n; ++i) {
    self->request(target, caf::infinite, whoami_atom::value)
      .then(
        [=](int) {
          ++t->answered;
          finish();
        },
        [=](caf::error&) {
          ++t->failed;
          finish();
        });
    if (i % crash_every == crash_every - 1)
      self->request(target, caf::infinite, crash_atom::value)
        .then([=](int) { finish(); },
              [=](caf::error&) {
                ++t->crashes;
                finish();
              });
  }
}

} // namespace

CAF_TEST(requests racing with crashes are all answered by some incarnation) {
  system_config cfg;
  caf::actor_system sys{cfg};
  supervisor_options opts;
  opts.name = "threads";
  opts.max_restarts = 1'000'000;
  opts.backoff.initial = caf::timespan{0};
  opts.on_give_up = escalate;
  std::vector<child_spec> children(1);
  children[0].name = "flaky";
  children[0].spawn = [](child_context& ctx) {
    return ctx.system().spawn(flaky, static_cast<int>(ctx.restarts()));
  };
  auto handle = spawn_supervisor(sys, opts, std::move(children));
  CAF_REQUIRE(handle);
  auto target = handle->child("flaky");
  constexpr int requesters = 4;
  constexpr int per_requester = 200; // 40 crashes in all
  caf::scoped_actor self{sys};
  for (int i = 0; i < requesters; ++i)
    sys.spawn(requester, target, caf::actor{self}, per_requester);
  int answered = 0;
  int failed = 0;
  int crashes = 0;
  bool timed_out = false;
  for (int i = 0; i < requesters && !timed_out; ++i)
    self->receive(
      [&](done_atom, int a, int f, int c) {
        answered += a;
        failed += f;
        crashes += c;
      },
      caf::after(60s) >> [&] { timed_out = true; });
  CAF_REQUIRE(!timed_out); // no request left hanging
  // whoami never fails inside an incarnation: a crash can only bounce it,
  // and bounced requests are redelivered.
  CAF_CHECK_EQUAL(answered, requesters * per_requester);
  CAF_CHECK_EQUAL(failed, 0);
  CAF_CHECK_EQUAL(crashes, requesters * per_requester / crash_every);
  auto restarts = std::make_shared<size_t>(0);
  self
    ->request(handle->supervisor, 10s, child_status_atom::value,
              std::string{"flaky"})
    .receive([&](child_status& st) { *restarts = st.restarts; },
             [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  CAF_MESSAGE("restarts: " << *restarts);
  // Each crash request crashed one incarnation.
  CAF_CHECK_EQUAL(*restarts, static_cast<size_t>(crashes));
  caf::anon_send_exit(handle->supervisor, caf::exit_reason::user_shutdown);
}
