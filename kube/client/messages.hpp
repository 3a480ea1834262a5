#pragma once

// Message types and atoms of the CAF façade (client_actor.hpp). Light:
// no actor headers, no Beast.

#include <nlohmann/json.hpp>

#include "caf/allowed_unsafe_message_type.hpp"
#include "caf/atom.hpp"

#include "kube/client/informer_cache.hpp"
#include "kube/client/request.hpp"
#include "kube/client/response.hpp"

namespace istio_csr::kube {

/// Internal: a completion from the client thread to the façade actor.
using kube_done_atom = caf::atom_constant<caf::atom("kubedone")>;

} // namespace istio_csr::kube

// Local-only message types (never serialized).
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(nlohmann::json)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(istio_csr::kube::response)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(istio_csr::kube::request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(istio_csr::kube::informer_event)
