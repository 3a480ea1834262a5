#pragma once

#include <string>

#include "caf/error.hpp"

namespace istio_csr::pki {

/// Every function of `pki/` that can fail returns `caf::expected<T>` (or a
/// `caf::error`, empty on success). Errors use CAF's own `caf::sec` codes:
/// - `caf::sec::invalid_argument`: the input is bad (unparsable PEM/DER, a
///   signature that does not verify, an unsupported key size, ...);
/// - `caf::sec::runtime_error`: OpenSSL failed on valid input (out of memory,
///   a missing algorithm).
/// The context is always exactly one human-readable `std::string`. No
/// category of its own: callers only log the text (`errors::message`) or map
/// every failure to one domain error.

/// Makes an `invalid_argument` error carrying `text`.
caf::error invalid(std::string text);

/// Makes a `runtime_error` carrying `text` plus OpenSSL's pending error
/// queue (which is cleared).
caf::error openssl_failure(std::string text);

} // namespace istio_csr::pki
