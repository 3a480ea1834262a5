#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "caf/atom.hpp"
#include "caf/error.hpp"

namespace istio_csr::actors::ambient {

/// Why the pod index did not allow an impersonation (category `ambient`).
enum class ambient_errc : uint8_t {
  /// Node authorization refused it; the context is upstream's reason text.
  denied = 1,
  /// The pod cache had not synced within the wait limit.
  not_synced,
};

/// The category atom of `ambient_errc` errors.
inline constexpr caf::atom_value ambient_error_category = caf::atom("ambient");

/// "denied", "not_synced".
std::string to_string(ambient_errc x);

/// An error of category `ambient` carrying `reason` when not empty.
caf::error make_error(ambient_errc x, std::string reason = {});

/// The `ambient_errc` of `err`, nullopt for no error or another category.
std::optional<ambient_errc> ambient_errc_of(const caf::error& err) noexcept;

} // namespace istio_csr::actors::ambient
