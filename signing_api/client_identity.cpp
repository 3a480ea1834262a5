#include "signing_api/client_identity.hpp"

namespace istio_csr::signing_api {

std::vector<std::string> client_cert_identity::identities() const {
  std::vector<std::string> result;
  result.reserve(uris.size() + dns.size() + ips.size());
  result.insert(result.end(), uris.begin(), uris.end());
  result.insert(result.end(), dns.begin(), dns.end());
  result.insert(result.end(), ips.begin(), ips.end());
  return result;
}

} // namespace istio_csr::signing_api
