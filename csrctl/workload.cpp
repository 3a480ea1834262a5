#include "csrctl/workload.hpp"

#include "pki/error.hpp"

namespace istio_csr::csrctl {

std::string spiffe_id(const std::string& trust_domain,
                      const std::string& namespace_,
                      const std::string& service_account) {
  return "spiffe://" + trust_domain + "/ns/" + namespace_ + "/sa/"
         + service_account;
}

caf::expected<pki::private_key> make_workload_key(key_type type, int bits) {
  return type == key_type::rsa
           ? pki::private_key::generate_rsa(bits == 0 ? 2048 : bits)
           : pki::private_key::generate_ec(bits == 0 ? 256 : bits);
}

caf::expected<pki::csr> make_workload_csr(const pki::private_key& key,
                                          const std::string& identity) {
  pki::csr_template tmpl; // subject O="", critical SAN: istio's shape
  tmpl.sans.uris = {identity};
  return pki::make_csr(key, tmpl);
}

caf::expected<workload_request>
make_workload_request(key_type type, int bits, const std::string& identity) {
  auto key = make_workload_key(type, bits);
  if (!key)
    return key.error();
  auto req = make_workload_csr(*key, identity);
  if (!req)
    return req.error();
  return workload_request{std::move(*key), std::move(*req)};
}

} // namespace istio_csr::csrctl
