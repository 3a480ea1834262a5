#pragma once

#include <chrono>
#include <optional>
#include <vector>

#include "caf/error.hpp"

#include "pki/certificate.hpp"

namespace istio_csr::pki {

/// What the leaf of a chain must be good for.
enum class verify_purpose {
  any,                   ///< no EKU check
  server_auth,           ///< X509_PURPOSE_SSL_SERVER
  client_auth,           ///< X509_PURPOSE_SSL_CLIENT
  client_or_server_auth, ///< either one passes (docs/upstream.md §2.7)
};

/// Verifies `leaf` up to one of `roots` using `intermediates` as untrusted
/// helpers, at `at` (default: now). Returns an empty error on success, else
/// an `invalid_argument` error whose text is OpenSSL's reason.
caf::error
verify_chain(const certificate& leaf,
             const std::vector<certificate>& intermediates,
             const std::vector<certificate>& roots, verify_purpose purpose,
             std::optional<std::chrono::system_clock::time_point> at = {});

} // namespace istio_csr::pki
