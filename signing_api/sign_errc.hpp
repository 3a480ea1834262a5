#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "caf/atom.hpp"
#include "caf/error.hpp"

namespace istio_csr::signing_api {

/// Why a signing request failed, in the domain's terms (category `sign`).
/// The transport maps each to its own status and text (the gRPC bridge:
/// `grpc_bridge/status.hpp`); the error's context, if any, is a detail for
/// logs that never reaches the caller.
enum class sign_errc : uint8_t {
  /// Authentication, authorization or the CSR policy refused the caller.
  unauthenticated = 1,
  /// The CertificateRequest could not be made or the issuer refused it (no
  /// active issuer, create failed, Denied, Failed, deleted).
  signing_failed,
  /// The issuer's answer did not parse, verify against the mesh roots, or
  /// match the approved CSR.
  verification_failed,
  /// The server-side deadline passed while the issuer had not signed.
  timed_out,
  /// The signer went away with the request (restarted or stopping).
  signer_unavailable,
  /// Ambient: the pod index has not listed the pods yet.
  pod_cache_not_synced,
  /// Ambient: the pod index is stopping.
  pod_cache_unavailable,
  /// Too many CertificateRequests wait for the issuer.
  issuer_overloaded,
  /// The caller cancelled (or its own deadline passed).
  cancelled,
};

/// The category atom of `sign_errc` errors.
inline constexpr caf::atom_value sign_error_category = caf::atom("sign");

/// "unauthenticated", "signing_failed", ...
std::string to_string(sign_errc x);

/// An error of category `sign`; `detail` (for logs) when not empty.
caf::error make_error(sign_errc x, std::string detail = {});

/// The `sign_errc` of `err`, nullopt for no error or another category.
std::optional<sign_errc> sign_errc_of(const caf::error& err) noexcept;

} // namespace istio_csr::signing_api
