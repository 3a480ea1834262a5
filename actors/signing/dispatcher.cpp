#include "actors/signing/dispatcher.hpp"

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/sec.hpp"
#include "caf/send.hpp"
#include "caf/stateful_actor.hpp"

#include "actors/signing/messages.hpp"
#include "actors/supervisor/errors.hpp"
#include "logging/logging.hpp"

namespace istio_csr::actors::signing {

namespace {

struct dispatcher_state {
  std::vector<caf::actor> signers;
  size_t next = 0;
  std::shared_ptr<spdlog::logger> log;

  static inline const char* name = "csr-dispatcher";
};

using dispatcher_actor = caf::stateful_actor<dispatcher_state>;

/// Whether `err` says the signer went away with the call.
bool signer_lost(const caf::error& err) {
  return err == make_error(supervisor_errc::child_restarted)
         || err == make_error(supervisor_errc::child_stopped)
         || err == caf::sec::request_receiver_down;
}

/// Sends `c` to a signer: the next one round robin, or for a retry the
/// one after the signer that lost it.
void dispatch(dispatcher_actor* self, call_ref c, int attempt,
              size_t lost_at = 0) {
  auto& st = self->state;
  if (st.signers.empty())
    return; // `c` goes: the guard answers UNAVAILABLE
  auto index = attempt == 0 ? st.next++ % st.signers.size()
                            : (lost_at + 1) % st.signers.size();
  self->request(st.signers[index], caf::infinite, sign_atom::value, c)
    .then([] { /* the signer finished the call */ },
          [self, c, attempt, index](caf::error& err) {
            auto& st = self->state;
            if ((*c)->finished() || (*c)->cancelled())
              return;
            if (signer_lost(err) && attempt == 0) {
              logging::warn(*st.log, "signer lost a call, retrying once",
                            {{"signer", std::to_string(index)},
                             {"error", self->system().render(err)}});
              dispatch(self, c, attempt + 1, index);
              return;
            }
            logging::error(*st.log, "signing failed",
                           {{"signer", std::to_string(index)},
                            {"error", self->system().render(err)}});
            (*c)->finish_error(grpc::StatusCode::UNAVAILABLE,
                               "certificate signer unavailable");
          });
}

caf::behavior dispatcher_impl(dispatcher_actor* self,
                              std::vector<caf::actor> signers) {
  self->state.signers = std::move(signers);
  self->state.log = logging::get("grpc-server");
  return {
    [self](sign_atom, call_ref& c) {
      if (c && !(*c)->finished())
        dispatch(self, std::move(c), 0);
    },
  };
}

} // namespace

caf::actor spawn_dispatcher(caf::actor_system& sys,
                            std::vector<caf::actor> signers) {
  return sys.spawn(dispatcher_impl, std::move(signers));
}

void dispatch_handler::handle(std::shared_ptr<grpc_bridge::call> c) {
  auto ref = make_call_ref(std::move(c));
  if (!dispatcher_)
    return; // `ref` goes: the guard answers UNAVAILABLE
  // If the dispatcher is gone the message is dropped, and so is `ref`.
  caf::anon_send(dispatcher_, sign_atom::value, std::move(ref));
}

} // namespace istio_csr::actors::signing
