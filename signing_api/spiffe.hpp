#pragma once

#include <string>
#include <string_view>

#include "caf/expected.hpp"

namespace istio_csr::signing_api {

/// A SPIFFE identity of the istio shape `spiffe://<td>/ns/<ns>/sa/<sa>`.
struct spiffe_identity {
  std::string trust_domain;
  std::string ns;
  std::string service_account;

  bool operator==(const spiffe_identity&) const = default;
};

/// Parses `text` exactly as istio's `spiffe.ParseIdentity`: the prefix
/// "spiffe://", then exactly 5 '/'-separated segments with the literals
/// "ns" and "sa" at positions 1 and 3. Segments may be empty. Error text:
/// "identity is not a spiffe format".
caf::expected<spiffe_identity> parse_spiffe_identity(std::string_view text);

/// `spiffe://<trust domain with '@' replaced by '.'>/ns/<ns>/sa/<sa>`, as
/// istio's Kube JWT authenticator builds caller identities. Errors if `ns` or
/// `sa` is empty.
caf::expected<std::string> format_spiffe_identity(std::string_view trust_domain,
                                                  std::string_view ns,
                                                  std::string_view sa);

} // namespace istio_csr::signing_api
