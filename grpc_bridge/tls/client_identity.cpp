#include "grpc_bridge/tls/client_identity.hpp"

#include "caf/sec.hpp"

#include "pki/certificate.hpp"

namespace istio_csr::grpc_bridge {

namespace {

constexpr std::string_view spiffe_prefix = "spiffe://";

caf::error invalid(std::string text) {
  return caf::make_error(caf::sec::invalid_argument, std::move(text));
}

} // namespace

std::vector<std::string> client_cert_identity::identities() const {
  std::vector<std::string> result;
  result.reserve(uris.size() + dns.size() + ips.size());
  result.insert(result.end(), uris.begin(), uris.end());
  result.insert(result.end(), dns.begin(), dns.end());
  result.insert(result.end(), ips.begin(), ips.end());
  return result;
}

caf::expected<spiffe_identity> parse_spiffe_id(std::string_view uri) {
  if (uri.substr(0, spiffe_prefix.size()) != spiffe_prefix)
    return invalid("identity is not a spiffe format");
  auto rest = uri.substr(spiffe_prefix.size());
  std::vector<std::string_view> parts;
  for (;;) {
    auto pos = rest.find('/');
    parts.push_back(rest.substr(0, pos));
    if (pos == std::string_view::npos)
      break;
    rest.remove_prefix(pos + 1);
  }
  if (parts.size() != 5 || parts[1] != "ns" || parts[3] != "sa")
    return invalid("identity is not a spiffe format");
  return spiffe_identity{std::string{parts[0]}, std::string{parts[2]},
                         std::string{parts[4]}};
}

caf::expected<client_cert_identity>
check_client_leaf(const pki::certificate& leaf, std::string_view trust_domain) {
  auto sans = leaf.sans();
  if (sans.uris.size() != 1)
    return invalid("peer certificate does not contain 1 URI type SAN, detected "
                   + std::to_string(sans.uris.size()));
  auto id = parse_spiffe_id(sans.uris.front());
  if (!id)
    return invalid("failed to parse URI SAN " + sans.uris.front());
  if (id->trust_domain != trust_domain)
    return invalid("no cert pool found for trust domain " + id->trust_domain);
  client_cert_identity result;
  result.spiffe_id = sans.uris.front();
  result.uris = std::move(sans.uris);
  result.dns = std::move(sans.dns);
  result.ips = std::move(sans.ips);
  return result;
}

} // namespace istio_csr::grpc_bridge
