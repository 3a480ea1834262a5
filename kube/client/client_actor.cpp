#include "kube/client/client_actor.hpp"

#include <unordered_map>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/send.hpp"
#include "caf/stateful_actor.hpp"

#include "kube/api/errc.hpp"
#include "kube/api/object.hpp"
#include "kube/client/client.hpp"

namespace istio_csr::kube {

namespace {

struct client_actor_state {
  std::shared_ptr<client> cli;
  uint64_t next_id = 1;
  std::unordered_map<uint64_t, caf::response_promise> pending;
  static inline const char* name = "kube-client";
};

caf::behavior client_actor_impl(caf::stateful_actor<client_actor_state>* self,
                                std::shared_ptr<client> cli) {
  self->state.cli = std::move(cli);
  return {
    [=](request& req) {
      auto rp = self->make_response_promise();
      auto id = self->state.next_id++;
      self->state.pending.emplace(id, rp);
      // Only a weak handle travels to the Asio thread: a request that never
      // completes must not keep the actor alive.
      self->state.cli->execute(
        std::move(req),
        [addr = self->address(), id](caf::expected<nlohmann::json> result) {
          auto hdl = caf::actor_cast<caf::actor>(addr);
          if (!hdl)
            return;
          if (result)
            caf::anon_send(hdl, kube_done_atom::value, id, std::move(*result));
          else
            caf::anon_send(hdl, kube_done_atom::value, id, result.error());
        });
      return rp;
    },
    [=](kube_done_atom, uint64_t id, nlohmann::json& obj) {
      auto i = self->state.pending.find(id);
      if (i == self->state.pending.end())
        return;
      auto rp = std::move(i->second);
      self->state.pending.erase(i);
      rp.deliver(std::move(obj));
    },
    [=](kube_done_atom, uint64_t id, caf::error& err) {
      auto i = self->state.pending.find(id);
      if (i == self->state.pending.end())
        return;
      auto rp = std::move(i->second);
      self->state.pending.erase(i);
      rp.deliver(std::move(err));
    },
  };
}

struct informer_actor_state {
  struct subscriber {
    caf::actor hdl;
    /// Events up to this sequence number were replayed from a snapshot.
    uint64_t after = 0;
  };
  std::shared_ptr<informer> inf;
  std::vector<subscriber> subscribers;

  ~informer_actor_state() {
    if (inf)
      inf->stop();
  }

  static inline const char* name = "kube-informer";
};

caf::behavior
informer_actor_impl(caf::stateful_actor<informer_actor_state>* self,
                    std::shared_ptr<client> cli, informer_options opts,
                    std::vector<caf::actor> initial) {
  for (auto& sub : initial) {
    self->monitor(sub);
    self->state.subscribers.push_back({sub, 0});
  }
  self->set_down_handler([=](caf::down_msg& dm) {
    auto& subs = self->state.subscribers;
    subs.erase(
      std::remove_if(subs.begin(), subs.end(),
                     [&](auto& s) { return s.hdl.address() == dm.source; }),
      subs.end());
  });
  self->state.inf
    = informer::make(std::move(cli), std::move(opts),
                     [addr = self->address()](const informer_event& ev) {
                       if (auto hdl = caf::actor_cast<caf::actor>(addr))
                         caf::anon_send(hdl, kube_event_atom::value, ev);
                     });
  self->state.inf->start();
  return {
    [=](kube_event_atom, const informer_event& ev) {
      for (auto& sub : self->state.subscribers)
        if (ev.sequence > sub.after)
          self->send(sub.hdl, ev);
    },
    [=](subscribe_atom, caf::actor sub) {
      if (!sub)
        return;
      auto snap = self->state.inf->take_snapshot();
      for (auto& obj : snap.objects)
        self->send(sub, informer_event{
                          informer_event_type::added, obj, {}, snap.sequence});
      if (snap.synced)
        self->send(sub, informer_event{
                          informer_event_type::synced, {}, {}, snap.sequence});
      self->monitor(sub);
      self->state.subscribers.push_back({sub, snap.sequence});
    },
    [=](unsubscribe_atom, caf::actor sub) {
      auto& subs = self->state.subscribers;
      subs.erase(std::remove_if(subs.begin(), subs.end(),
                                [&](auto& s) { return s.hdl == sub; }),
                 subs.end());
    },
    [=](caf::get_atom, const std::string& ns, const std::string& name) {
      // A promise rather than caf::result<nlohmann::json>: json converts
      // implicitly into too many things for result's constructors.
      auto rp = self->make_response_promise();
      if (auto obj = self->state.inf->get(ns, name))
        rp.deliver(*obj);
      else
        rp.deliver(make_error(errc::not_found, "not in the informer cache: "
                                                 + object_key(ns, name)));
      return rp;
    },
  };
}

} // namespace

caf::actor spawn_client_actor(caf::actor_system& sys,
                              std::shared_ptr<client> c) {
  return sys.spawn(client_actor_impl, std::move(c));
}

caf::actor spawn_informer_actor(caf::actor_system& sys,
                                std::shared_ptr<client> c,
                                informer_options opts,
                                std::vector<caf::actor> subscribers) {
  return sys.spawn(informer_actor_impl, std::move(c), std::move(opts),
                   std::move(subscribers));
}

} // namespace istio_csr::kube
