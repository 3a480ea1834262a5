#pragma once

#include <memory>
#include <vector>

#include "caf/fwd.hpp"
#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include "kube/client/messages.hpp"

namespace istio_csr::kube {

class client;

/// The CAF façade of a `kube::client`: `(kube::request) -> kube::response`,
/// or a `caf::error` (`kube::errc`):
///
/// ```
/// self->request(kube, infinite, request::get(resources::configmaps, ns, n))
///   .then([](kube::response& cm) { ... }, [](caf::error& err) { ... });
/// ```
///
/// The Kubernetes call runs on the client's Asio thread; its completion
/// comes back to the façade as a message, and the façade delivers the
/// response on its own (actor) thread. Nothing blocks. A message of another
/// shape does not compile, e.g. a handler taking `nlohmann::json&` for the
/// answer, or a request that is no `kube::request`.
using client_actor = caf::typed_actor<caf::replies_to<request>::with<response>>;

client_actor spawn_client_actor(caf::actor_system& sys,
                                std::shared_ptr<client> c);

} // namespace istio_csr::kube
