#pragma once

#include <cstdint>
#include <string>

#include "caf/atom.hpp"
#include "caf/error.hpp"
#include "caf/fwd.hpp"

namespace istio_csr::actors::signing {

/// Errors between the signing-path actors (category `signing`).
enum class signing_errc : uint8_t {
  /// The CertificateRequest was deleted before it was final.
  cr_deleted = 1,
  /// The waiter withdrew its wait (`cr_unwait_atom`).
  wait_cancelled,
  /// The waiter terminated; the watcher deleted the object.
  waiter_down,
};

/// The error category atom of `signing_errc`.
constexpr caf::atom_value signing_error_category = caf::atom("signing");

std::string to_string(signing_errc x);

caf::error make_error(signing_errc x);

caf::error make_error(signing_errc x, std::string context);

} // namespace istio_csr::actors::signing
