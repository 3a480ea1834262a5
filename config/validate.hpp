#pragma once

#include "caf/error.hpp"

#include "config/options.hpp"

namespace istio_csr::config {

/// Checks `opts` against every fatal startup condition of upstream (and ours)
/// and fills in the resolved fields (`tls.min_version`, `tls.cipher_suites`,
/// `tls.curves`, `tls.serving_key_algorithm`, `issuer.static_issuer`,
/// `controller.namespace_selector`, `telemetry.format`, the normalised
/// istiod key settings, `debug.listen`). Returns the first problem as
/// `sec::invalid_argument` with upstream's message where it has one, or an
/// empty error.
caf::error validate(options& opts);

/// Parses `$TOKEN_AUDIENCES` (comma-separated, no empty entries).
caf::expected<std::vector<std::string>>
parse_token_audiences(std::string_view value);

} // namespace istio_csr::config
