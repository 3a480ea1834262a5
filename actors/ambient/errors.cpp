#include "actors/ambient/errors.hpp"

#include "caf/make_message.hpp"
#include "caf/message.hpp"

#include "errors/describe.hpp"

namespace istio_csr::actors::ambient {

std::string to_string(ambient_errc x) {
  switch (x) {
    case ambient_errc::denied: return "denied";
    case ambient_errc::not_synced: return "not_synced";
  }
  return "ambient_errc(" + std::to_string(static_cast<int>(x)) + ")";
}

namespace {

std::string code_name(uint8_t code) {
  return to_string(static_cast<ambient_errc>(code));
}

bool registered() {
  static const bool done
    = errors::register_category(ambient_error_category, "ambient", code_name);
  return done;
}

} // namespace

caf::error make_error(ambient_errc x, std::string reason) {
  static_cast<void>(registered());
  if (reason.empty())
    return caf::error{static_cast<uint8_t>(x), ambient_error_category};
  return caf::error{static_cast<uint8_t>(x), ambient_error_category,
                    caf::make_message(std::move(reason))};
}

std::optional<ambient_errc> ambient_errc_of(const caf::error& err) noexcept {
  if (!err || err.category() != ambient_error_category)
    return std::nullopt;
  return static_cast<ambient_errc>(err.code());
}

} // namespace istio_csr::actors::ambient
