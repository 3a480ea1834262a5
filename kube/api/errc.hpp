#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "caf/error.hpp"
#include "caf/fwd.hpp"

namespace istio_csr::kube {

/// Error codes of every Kubernetes operation, as `caf::error` in category
/// `kube` (see `error_category`). The error's context holds one
/// `std::string`: the API server's `Status.message`, or a description of the
/// transport, decode or configuration failure.
enum class errc : uint8_t {
  /// 404 `NotFound`.
  not_found = 1,
  /// 409 `AlreadyExists` (create of an existing name).
  already_exists,
  /// 409 `Conflict` (stale resourceVersion, failed precondition).
  conflict,
  /// 410 `Expired`/`Gone`: a watch or continue token from a resourceVersion
  /// the server no longer has.
  gone,
  /// 422 `Invalid`.
  invalid,
  /// 400 `BadRequest` and other 4xx answers without a specific code (405,
  /// 406, 413, 415).
  bad_request,
  /// 401: missing or rejected credentials.
  unauthorized,
  /// 403: the user may not do this.
  forbidden,
  /// 429: the server throttles us.
  too_many_requests,
  /// 5xx other than a timeout.
  server_error,
  /// 504 or `Timeout`/`ServerTimeout`, or our own request deadline.
  timeout,
  /// TCP level: name resolution, connection refused or reset, early EOF.
  connection_failed,
  /// The TLS handshake or the TLS layer failed (e.g. an untrusted server).
  tls_error,
  /// The response could not be decoded (bad JSON, bad framing).
  decode_error,
  /// The operation was cancelled (watch stopped, client shut down).
  cancelled,
  /// The client configuration (kubeconfig, in-cluster files) is unusable.
  config_error,
};

/// The category atom of `errc` errors.
inline constexpr caf::atom_value error_category = caf::atom("kube");

/// Returns the enumerator's name, e.g. "not_found".
std::string to_string(errc code);

/// Makes an error without a message.
caf::error make_error(errc code);

/// Makes an error carrying `message`.
caf::error make_error(errc code, std::string message);

/// Returns the `errc` of `err`, or nullopt for no error or another category.
std::optional<errc> errc_of(const caf::error& err) noexcept;

/// Returns whether `err` is the kube error `code`.
inline bool is(const caf::error& err, errc code) noexcept {
  return errc_of(err) == code;
}

// Rendering: `errors::describe(err)` (`kube.not_found: ...`) and
// `errors::message(err)` (the text only), errors/describe.hpp.

} // namespace istio_csr::kube
