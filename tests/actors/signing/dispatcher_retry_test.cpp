// The csr-dispatcher's retry on CAF's deterministic scheduler, against fake
// signers that answer only when the test says so: a request lost with its
// signer (`child_restarted` from the stable handle, or bounced by a dead
// signer: `request_receiver_down`) goes to the next signer, up to three
// signers in all; a third loss answers `signer_unavailable`; finished or
// cancelled requests and other failures are not retried.

#define CAF_SUITE actors.dispatcher_retry

#include "caf/test/dsl.hpp"

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "caf/typed_response_promise.hpp"

#include "actors/signing/csr_signer.hpp"
#include "actors/signing/dispatcher.hpp"
#include "actors/signing/messages.hpp"
#include "actors/supervisor/errors.hpp"
#include "actors/system/system_config.hpp"
#include "signing_api/sign_errc.hpp"
#include "signing_api/sign_reply.hpp"
#include "tests/actors/signing/result_code.hpp"
#include "tests/support/actors.hpp"
#include "tests/support/fake_kube_client.hpp"

using namespace istio_csr;
using namespace istio_csr::test;

namespace {

namespace sg = istio_csr::actors::signing;
using signing_api::sign_errc;

/// A fake signer's interface: a `signer_actor` plus the test's answers to
/// its request `index` (`fake_answer_atom`, as the other fakes): `void` or
/// an error.
using fake_signer_actor = sg::signer_actor::extend<
  caf::reacts_to<fake_answer_atom, std::size_t>,
  caf::reacts_to<fake_answer_atom, std::size_t, caf::error>>;

/// The requests one fake signer received.
struct signer_log {
  std::vector<sg::request_ref> requests;
};

struct fake_signer_state {
  std::shared_ptr<signer_log> log;
  std::unordered_map<std::size_t, caf::typed_response_promise<void>> promises;

  static inline const char* name = "fake-signer";
};

using fake_signer_pointer
  = fake_signer_actor::stateful_pointer<fake_signer_state>;

template <class... Ts>
void deliver(fake_signer_pointer self, std::size_t i, Ts&&... xs) {
  auto j = self->state.promises.find(i);
  if (j == self->state.promises.end())
    return;
  auto rp = std::move(j->second);
  self->state.promises.erase(j);
  static_cast<caf::response_promise&>(rp).deliver(std::forward<Ts>(xs)...);
}

fake_signer_actor::behavior_type fake_signer(fake_signer_pointer self,
                                             std::shared_ptr<signer_log> log) {
  self->state.log = std::move(log);
  return {
    [self](sg::sign_atom, sg::request_ref& req) -> caf::result<void> {
      auto& st = self->state;
      auto rp = self->make_response_promise<void>();
      st.promises.emplace(st.log->requests.size(), rp);
      st.log->requests.push_back(std::move(req));
      return rp;
    },
    [self](sg::stats_atom) {
      return sg::signer_stats{self->state.promises.size(), 0};
    },
    [self](fake_answer_atom, std::size_t i) { deliver(self, i, caf::unit); },
    [self](fake_answer_atom, std::size_t i, caf::error& err) {
      deliver(self, i, std::move(err));
    },
  };
}

/// What one request got.
struct outcome {
  std::vector<signing_api::sign_result> results;
  std::shared_ptr<signing_api::callback_reply> reply;
  sg::request_ref ref;

  std::string code() const {
    return istio_csr::test::signing::result_code(results);
  }
};

struct fixture : test_coordinator_fixture<actors::system_config> {
  std::vector<std::shared_ptr<signer_log>> logs;
  std::vector<fake_signer_actor> signers;
  sg::dispatcher_actor dispatcher;

  fixture() {
    std::vector<sg::signer_actor> handles;
    for (int i = 0; i < 3; ++i) {
      logs.push_back(std::make_shared<signer_log>());
      signers.push_back(sys.spawn(fake_signer, logs.back()));
      handles.push_back(signers.back());
    }
    dispatcher = sg::spawn_dispatcher(sys, std::move(handles));
    sched.run();
  }

  ~fixture() override {
    send_exit_to_all(caf::exit_reason::user_shutdown, dispatcher, signers);
    sched.run();
  }

  /// A request as the transport makes it; not sent yet.
  std::shared_ptr<outcome> make() {
    auto out = std::make_shared<outcome>();
    signing_api::sign_request req;
    req.csr_pem = "csr";
    std::weak_ptr<outcome> weak = out;
    out->reply
      = signing_api::callback_reply::make([weak](signing_api::sign_result r) {
          if (auto o = weak.lock())
            o->results.push_back(std::move(r));
        });
    req.reply = out->reply;
    out->ref = sg::make_request_ref(std::move(req));
    return out;
  }

  /// Sends `out` to the dispatcher (as `dispatch_handler` does) and runs.
  void dispatch(const outcome& out) {
    caf::anon_send(dispatcher, sg::sign_atom::value, out.ref);
    sched.run();
  }

  /// How many requests signer `i` received.
  std::size_t received(std::size_t i) const {
    return logs[i]->requests.size();
  }

  /// Whether signer `i`'s request `j` is `out`'s.
  bool holds(std::size_t i, std::size_t j, const outcome& out) const {
    return j < received(i) && logs[i]->requests[j] == out.ref;
  }

  /// Signer `i` answers its request `j` with `err`.
  void lose(std::size_t i, std::size_t j, caf::error err) {
    caf::anon_send(signers[i], fake_answer_atom::value, j, std::move(err));
    sched.run();
  }

  /// Signer `i` finishes its request `j` with a chain and answers.
  void finish(std::size_t i, std::size_t j) {
    logs[i]->requests[j]->reply().finish(std::vector<std::string>{"chain"});
    caf::anon_send(signers[i], fake_answer_atom::value, j);
    sched.run();
  }
};

caf::error restarted() {
  return actors::make_error(actors::supervisor_errc::child_restarted);
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(dispatcher_retry_tests, fixture)

CAF_TEST(requests go round robin) {
  auto a = make();
  auto b = make();
  dispatch(*a);
  dispatch(*b);
  CAF_REQUIRE(holds(0, 0, *a));
  CAF_REQUIRE(holds(1, 0, *b));
  finish(0, 0);
  finish(1, 0);
  CAF_CHECK_EQUAL(a->code(), "ok");
  CAF_CHECK_EQUAL(b->code(), "ok");
}

CAF_TEST(a request lost with a restarted signer goes to the next one) {
  auto out = make();
  dispatch(*out);
  CAF_REQUIRE(holds(0, 0, *out));
  lose(0, 0, restarted());
  CAF_CHECK_EQUAL(out->code(), "<none>");
  CAF_REQUIRE(holds(1, 0, *out));
  CAF_CHECK_EQUAL(received(2), 0u);
  finish(1, 0);
  CAF_CHECK_EQUAL(out->code(), "ok");
  CAF_CHECK_EQUAL(received(0), 1u);
  CAF_CHECK_EQUAL(received(1), 1u);
  CAF_CHECK_EQUAL(received(2), 0u);
}

CAF_TEST(a request bounced by a dead signer goes to the next one) {
  auto out = make();
  // The dispatcher runs first and puts the request into signer 0's mailbox,
  // behind the exit message: signer 0 dies before it reads the request,
  // which CAF answers with request_receiver_down.
  caf::anon_send(dispatcher, sg::sign_atom::value, out->ref);
  anon_send_exit(signers[0], caf::exit_reason::kill);
  sched.run();
  CAF_CHECK_EQUAL(received(0), 0u);
  CAF_REQUIRE(holds(1, 0, *out));
  finish(1, 0);
  CAF_CHECK_EQUAL(out->code(), "ok");
}

CAF_TEST(a second loss goes to the third signer) {
  auto out = make();
  dispatch(*out);
  lose(0, 0, restarted());
  CAF_REQUIRE(holds(1, 0, *out));
  lose(1, 0, caf::make_error(caf::sec::request_receiver_down));
  CAF_CHECK_EQUAL(out->code(), "<none>");
  CAF_REQUIRE(holds(2, 0, *out));
  finish(2, 0);
  CAF_CHECK_EQUAL(out->code(), "ok");
}

CAF_TEST(a third loss answers signer unavailable) {
  auto out = make();
  dispatch(*out);
  lose(0, 0, restarted());
  CAF_REQUIRE(holds(1, 0, *out));
  lose(1, 0, caf::make_error(caf::sec::request_receiver_down));
  CAF_REQUIRE(holds(2, 0, *out));
  lose(2, 0, restarted());
  CAF_CHECK_EQUAL(out->code(), "signer_unavailable");
  CAF_CHECK_EQUAL(received(0), 1u);
  CAF_CHECK_EQUAL(received(1), 1u);
  CAF_CHECK_EQUAL(received(2), 1u);
}

CAF_TEST(a finished request is not retried) {
  auto out = make();
  dispatch(*out);
  CAF_REQUIRE(holds(0, 0, *out));
  // The signer finished the request, then went away before it answered.
  logs[0]->requests[0]->reply().finish(std::vector<std::string>{"chain"});
  lose(0, 0, restarted());
  CAF_CHECK_EQUAL(out->code(), "ok");
  CAF_CHECK_EQUAL(received(1), 0u);
  CAF_CHECK_EQUAL(received(2), 0u);
}

CAF_TEST(a cancelled request is not retried) {
  auto out = make();
  dispatch(*out);
  out->reply->cancel_by_caller();
  lose(0, 0, restarted());
  CAF_CHECK_EQUAL(out->code(), "cancelled");
  CAF_CHECK_EQUAL(received(1), 0u);
  CAF_CHECK_EQUAL(received(2), 0u);
}

CAF_TEST(other failures are not retried) {
  auto out = make();
  dispatch(*out);
  lose(0, 0, caf::make_error(caf::sec::runtime_error, "boom"));
  CAF_CHECK_EQUAL(out->code(), "signer_unavailable");
  CAF_CHECK_EQUAL(received(1), 0u);
}

CAF_TEST_FIXTURE_SCOPE_END()
