#pragma once

#include <memory>
#include <vector>

#include "caf/fwd.hpp"

#include "kube/client/informer.hpp"
#include "kube/client/messages.hpp"

namespace istio_csr::kube {

class client;

/// Spawns the CAF façade of `c`. It answers a `kube::request` message with
/// the decoded answer (`nlohmann::json`) or a `caf::error` (`kube::errc`):
///
/// ```
/// self->request(kube, infinite, request::get(resources::configmaps, ns, n))
///   .then([](nlohmann::json& cm) { ... }, [](caf::error& err) { ... });
/// ```
///
/// The Kubernetes call runs on the client's Asio thread; its completion comes
/// back to the façade as a message, and the façade delivers the response on
/// its own (actor) thread. Nothing blocks.
caf::actor spawn_client_actor(caf::actor_system& sys,
                              std::shared_ptr<client> c);

/// Spawns an informer as an actor. Each subscriber receives
/// `kube::informer_event` messages (sender: the informer actor):
/// `subscribers` from the very first event; an actor sending `(subscribe_atom,
/// caf::actor)` later first gets the current cache as `added` events (plus
/// `synced` when the first list has completed), then live events, with
/// nothing lost or repeated in between. `(unsubscribe_atom, caf::actor)` ends
/// a subscription; subscribers that terminate are dropped. `(caf::get_atom,
/// std::string namespace, std::string name)` answers the cached object or
/// `errc::not_found`. The informer stops when the actor terminates.
caf::actor spawn_informer_actor(caf::actor_system& sys,
                                std::shared_ptr<client> c,
                                informer_options opts,
                                std::vector<caf::actor> subscribers = {});

} // namespace istio_csr::kube
