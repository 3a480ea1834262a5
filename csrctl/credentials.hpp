#pragma once

#include <string>

#include "caf/expected.hpp"

#include "csrctl/kube_access.hpp"
#include "csrctl/options.hpp"

namespace istio_csr::csrctl {

/// The content of the file `path`, given as `option` (named in the error).
caf::expected<std::string> read_input(const std::string& path,
                                      const std::string& option);

/// The token of `--token-file path`, trailing newlines and blanks removed.
caf::expected<std::string> read_token(const std::string& path);

/// The roots csrctl trusts for the agent's serving certificate:
/// `--root-ca`, else the mesh root found through `kube` (which must then be
/// set; csrctl/README.md, "Which root csrctl trusts").
caf::expected<trust_bundle> trusted_roots(const request_options& opts,
                                          kube_access* kube);

} // namespace istio_csr::csrctl
