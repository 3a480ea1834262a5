#pragma once

#include <string>

#include "caf/expected.hpp"

#include "csrctl/options.hpp"
#include "pki/csr.hpp"
#include "pki/private_key.hpp"

namespace istio_csr::csrctl {

/// A workload key and its CSR, made as istio-agent's `pkiutil.GenCSR` makes
/// them: subject `O=` only, one critical SubjectAltName with the identity as
/// its only URI, SHA-256 signature.
struct workload_request {
  pki::private_key key;
  pki::csr csr;
};

/// `spiffe://<td>/ns/<ns>/sa/<sa>`.
std::string spiffe_id(const std::string& trust_domain,
                      const std::string& namespace_,
                      const std::string& service_account);

/// A new workload key (`type`, `bits`: 0 for 2048 / P-256).
caf::expected<pki::private_key> make_workload_key(key_type type, int bits);

/// istio-agent's CSR for `identity`, signed with `key`.
caf::expected<pki::csr> make_workload_csr(const pki::private_key& key,
                                          const std::string& identity);

/// A new key (`type`, `bits`: 0 for 2048 / P-256) and a CSR for `identity`.
caf::expected<workload_request>
make_workload_request(key_type type, int bits, const std::string& identity);

} // namespace istio_csr::csrctl
