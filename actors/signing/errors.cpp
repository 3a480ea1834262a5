#include "actors/signing/errors.hpp"

#include "caf/actor_system_config.hpp"
#include "caf/make_message.hpp"
#include "caf/message.hpp"

namespace istio_csr::actors::signing {

std::string to_string(signing_errc x) {
  switch (x) {
    case signing_errc::cr_deleted: return "cr_deleted";
    case signing_errc::wait_cancelled: return "wait_cancelled";
    case signing_errc::waiter_down: return "waiter_down";
  }
  return "signing_errc(" + std::to_string(static_cast<int>(x)) + ")";
}

caf::error make_error(signing_errc x) {
  return caf::error{static_cast<uint8_t>(x), signing_error_category};
}

caf::error make_error(signing_errc x, std::string context) {
  return caf::error{static_cast<uint8_t>(x), signing_error_category,
                    caf::make_message(std::move(context))};
}

void add_signing_error_category(caf::actor_system_config& cfg) {
  cfg.add_error_category(
    signing_error_category,
    [](uint8_t code, caf::atom_value, const caf::message& ctx) {
      auto result = "signing." + to_string(static_cast<signing_errc>(code));
      if (ctx.match_elements<std::string>())
        result += ": " + ctx.get_as<std::string>(0);
      return result;
    });
}

} // namespace istio_csr::actors::signing
