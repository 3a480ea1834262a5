#include "actors/ambient/errors.hpp"

#include "errors/describe.hpp"

namespace istio_csr::actors::ambient {

std::string to_string(ambient_errc x) {
  switch (x) {
    case ambient_errc::denied: return "denied";
    case ambient_errc::not_synced: return "not_synced";
  }
  return "ambient_errc(" + std::to_string(static_cast<int>(x)) + ")";
}

caf::error make_error(ambient_errc x, std::string reason) {
  return errors::make_error(ambient_error_category, "ambient", x,
                            std::move(reason));
}

std::optional<ambient_errc> ambient_errc_of(const caf::error& err) noexcept {
  return errors::code_of<ambient_errc>(err, ambient_error_category);
}

} // namespace istio_csr::actors::ambient
