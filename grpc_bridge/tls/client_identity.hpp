#pragma once

#include <string>
#include <string_view>

#include "caf/expected.hpp"

#include "signing_api/client_identity.hpp"

namespace istio_csr::pki {
class certificate;
} // namespace istio_csr::pki

namespace istio_csr::grpc_bridge {

/// Applies istio's PeerCertVerifier rules to a client leaf whose chain has
/// already been verified: exactly one URI SAN, a SPIFFE identity, in
/// `trust_domain`. Returns the identity, or an error saying why not.
caf::expected<signing_api::client_cert_identity>
check_client_leaf(const pki::certificate& leaf, std::string_view trust_domain);

} // namespace istio_csr::grpc_bridge
