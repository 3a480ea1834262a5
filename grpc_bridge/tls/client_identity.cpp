#include "grpc_bridge/tls/client_identity.hpp"

#include "caf/sec.hpp"

#include "pki/certificate.hpp"
#include "signing_api/spiffe.hpp"

namespace istio_csr::grpc_bridge {

namespace {

caf::error invalid(std::string text) {
  return caf::make_error(caf::sec::invalid_argument, std::move(text));
}

} // namespace

caf::expected<signing_api::client_cert_identity>
check_client_leaf(const pki::certificate& leaf, std::string_view trust_domain) {
  auto sans = leaf.sans();
  if (sans.uris.size() != 1)
    return invalid("peer certificate does not contain 1 URI type SAN, detected "
                   + std::to_string(sans.uris.size()));
  auto id = signing_api::parse_spiffe_identity(sans.uris.front());
  if (!id)
    return invalid("failed to parse URI SAN " + sans.uris.front());
  if (id->trust_domain != trust_domain)
    return invalid("no cert pool found for trust domain " + id->trust_domain);
  signing_api::client_cert_identity result;
  result.spiffe_id = sans.uris.front();
  result.uris = std::move(sans.uris);
  result.dns = std::move(sans.dns);
  result.ips = std::move(sans.ips);
  return result;
}

} // namespace istio_csr::grpc_bridge
