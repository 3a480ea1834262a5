#pragma once

#include <string>

namespace istio_csr::test {

/// Runs `promtool check metrics` on `exposition` (promtool from the
/// Debian package prometheus, found by `program`). Empty when the text
/// parses and promtool's lint finds nothing but the suffix findings that
/// compatibility requires (docs/metrics.md, "promtool"): istiod's
/// `citadel_server_*_count` counters and upstream's
/// `cert_manager_istio_csr_tls_provider_certificate_requests` keep their
/// names. Else promtool's complaints and exit status.
std::string promtool_problems(const std::string& exposition);

} // namespace istio_csr::test
