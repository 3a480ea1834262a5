#include "kube/client/client_actor.hpp"

#include <unordered_map>

#include "caf/actor_system.hpp"
#include "caf/send.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "introspection/protocol.hpp"
#include "kube/api/errc.hpp"
#include "kube/api/object.hpp"
#include "kube/client/client.hpp"

namespace istio_csr::kube {

namespace {

struct client_actor_state {
  std::shared_ptr<client> cli;
  uint64_t next_id = 1;
  std::unordered_map<uint64_t, caf::typed_response_promise<response>> pending;
  static inline const char* name = "kube-client";
};

/// The façade with its internal messages: completions from the client
/// thread.
using client_impl_actor
  = client_actor::extend<caf::reacts_to<kube_done_atom, uint64_t, response>,
                         caf::reacts_to<kube_done_atom, uint64_t, caf::error>>;

using client_pointer = client_impl_actor::stateful_pointer<client_actor_state>;

/// Answers the pending request `id` with `x` (a response or an error).
template <class T>
void complete(client_pointer self, uint64_t id, T&& x) {
  auto i = self->state.pending.find(id);
  if (i == self->state.pending.end())
    return;
  auto rp = std::move(i->second);
  self->state.pending.erase(i);
  rp.deliver(std::forward<T>(x));
}

client_impl_actor::behavior_type
client_actor_impl(client_pointer self, std::shared_ptr<client> cli) {
  introspection::enable(self, [self] {
    return introspection::report{std::to_string(self->state.pending.size())
                                 + " requests pending"};
  });
  self->state.cli = std::move(cli);
  return {
    [=](request& req) -> caf::result<response> {
      auto rp = self->make_response_promise<response>();
      auto id = self->state.next_id++;
      self->state.pending.emplace(id, rp);
      // Only a weak handle travels to the Asio thread: a request that never
      // completes must not keep the actor alive.
      self->state.cli->execute(
        std::move(req),
        [addr = self->address(), id](caf::expected<nlohmann::json> result) {
          auto hdl = caf::actor_cast<client_impl_actor>(addr);
          if (!hdl)
            return;
          if (result)
            caf::anon_send(hdl, kube_done_atom::value, id,
                           response{std::move(*result)});
          else
            caf::anon_send(hdl, kube_done_atom::value, id, result.error());
        });
      return rp;
    },
    [=](kube_done_atom, uint64_t id, response& r) {
      complete(self, id, std::move(r));
    },
    [=](kube_done_atom, uint64_t id, caf::error& err) {
      complete(self, id, std::move(err));
    },
  };
}

} // namespace

client_actor spawn_client_actor(caf::actor_system& sys,
                                std::shared_ptr<client> c) {
  return sys.spawn(client_actor_impl, std::move(c));
}

} // namespace istio_csr::kube
