#include "actors/signing/dispatcher.hpp"

#include "caf/actor_system.hpp"
#include "caf/sec.hpp"
#include "caf/send.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/signing/citadel_outcome.hpp"
#include "actors/supervisor/errors.hpp"
#include "errors/describe.hpp"
#include "introspection/protocol.hpp"
#include "logging/logging.hpp"
#include "metrics/citadel.hpp"
#include "signing_api/sign_errc.hpp"

namespace istio_csr::actors::signing {

namespace {

struct dispatcher_state {
  std::vector<signer_actor> signers;
  size_t next = 0;
  std::shared_ptr<spdlog::logger> log;

  static inline const char* name = "csr-dispatcher";
};

using dispatcher_pointer = dispatcher_actor::stateful_pointer<dispatcher_state>;

/// Signers a request is given to when they go away with it (a crash, chaos
/// mode): the first one and two more, each the next after the one lost.
constexpr int max_dispatch_attempts = 3;

/// Whether `err` says the signer went away with the request.
bool signer_lost(const caf::error& err) {
  return err == make_error(supervisor_errc::child_restarted)
         || err == make_error(supervisor_errc::child_stopped)
         || err == caf::sec::request_receiver_down;
}

/// Sends `req` to a signer: the next one round robin, or for a retry the
/// one after the signer that lost it.
void dispatch(dispatcher_pointer self, request_ref req, int attempt,
              size_t lost_at = 0) {
  auto& st = self->state;
  if (st.signers.empty())
    return; // `req` goes: the guard answers signer_unavailable
  auto index = attempt == 0 ? st.next++ % st.signers.size()
                            : (lost_at + 1) % st.signers.size();
  self->request(st.signers[index], caf::infinite, sign_atom::value, req)
    .then([] { /* the signer finished the request */ },
          [self, req, attempt, index](caf::error& err) {
            auto& st = self->state;
            if (req->reply().finished() || req->reply().cancelled())
              return;
            if (signer_lost(err) && attempt + 1 < max_dispatch_attempts) {
              logging::warn(*st.log, "signer lost a call, retrying",
                            {{"signer", std::to_string(index)},
                             {"err", errors::describe(err)}});
              dispatch(self, req, attempt + 1, index);
              return;
            }
            logging::error(*st.log, "signing failed",
                           {{"signer", std::to_string(index)},
                            {"err", errors::describe(err)}});
            req->reply().finish(signing_api::make_error(
              signing_api::sign_errc::signer_unavailable));
          });
}

dispatcher_actor::behavior_type
dispatcher_impl(dispatcher_pointer self, std::vector<signer_actor> signers) {
  self->state.signers = std::move(signers);
  introspection::enable(self, [self] {
    return introspection::report{std::to_string(self->state.signers.size())
                                 + " signers"};
  });
  self->state.log = logging::get("grpc-server");
  return {
    [self](sign_atom, request_ref& req) {
      if (req && !req->reply().finished())
        dispatch(self, std::move(req), 0);
    },
  };
}

} // namespace

dispatcher_actor spawn_dispatcher(caf::actor_system& sys,
                                  std::vector<signer_actor> signers) {
  return sys.spawn(dispatcher_impl, std::move(signers));
}

void dispatch_handler::handle(signing_api::sign_request request) {
  // istiod's CA counters: one CSR in, exactly one outcome out.
  metrics::citadel().csr_count.inc();
  request.reply->observe(count_outcome);
  auto ref = make_request_ref(std::move(request));
  if (!dispatcher_)
    return; // `ref` goes: the guard answers signer_unavailable
  // If the dispatcher is gone the message is dropped, and so is `ref`.
  caf::anon_send(dispatcher_, sign_atom::value, std::move(ref));
}

} // namespace istio_csr::actors::signing
