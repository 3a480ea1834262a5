#pragma once

#include <optional>
#include <string>
#include <vector>

#include "caf/error.hpp"
#include "caf/expected.hpp"

#include "pki/certificate.hpp"
#include "pki/private_key.hpp"

namespace istio_csr::csrctl {

/// A `cert_chain` read the way ztunnel reads it: the first PEM block of
/// each element but the last (leaf, then intermediates), and every block of
/// the last element (the root bundle).
struct parsed_chain {
  pki::certificate leaf;
  std::vector<pki::certificate> intermediates;
  std::vector<pki::certificate> roots;
};

/// Parses `cert_chain`. Errors like istio-agent on fewer than 2 elements
/// ("invalid empty CertChain") and on an element that is no certificate.
caf::expected<parsed_chain> parse_chain(const std::vector<std::string>& chain);

/// What a client checks of a response: the leaf certifies `key`, carries
/// exactly the one URI `identity` and verifies, through the intermediates,
/// to a root of the last element (for client or server auth). Empty on
/// success.
caf::error check_chain(const parsed_chain& chain, const pki::private_key& key,
                       const std::string& identity);

/// A human-readable description of the chain: per element its subject,
/// issuer, SANs, validity and key.
std::string describe_chain(const parsed_chain& chain);

/// The chain as istio-agent hands it to Envoy: every element concatenated,
/// each ending with a newline.
std::string concat_pem(const std::vector<std::string>& chain);

} // namespace istio_csr::csrctl
