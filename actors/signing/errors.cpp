#include "actors/signing/errors.hpp"

#include "caf/make_message.hpp"
#include "caf/message.hpp"

#include "errors/describe.hpp"

namespace istio_csr::actors::signing {

std::string to_string(signing_errc x) {
  switch (x) {
    case signing_errc::cr_deleted: return "cr_deleted";
    case signing_errc::wait_cancelled: return "wait_cancelled";
    case signing_errc::waiter_down: return "waiter_down";
  }
  return "signing_errc(" + std::to_string(static_cast<int>(x)) + ")";
}

namespace {

std::string code_name(uint8_t code) {
  return to_string(static_cast<signing_errc>(code));
}

bool registered() {
  static const bool done
    = errors::register_category(signing_error_category, "signing", code_name);
  return done;
}

} // namespace

caf::error make_error(signing_errc x) {
  static_cast<void>(registered());
  return caf::error{static_cast<uint8_t>(x), signing_error_category};
}

caf::error make_error(signing_errc x, std::string context) {
  static_cast<void>(registered());
  return caf::error{static_cast<uint8_t>(x), signing_error_category,
                    caf::make_message(std::move(context))};
}

} // namespace istio_csr::actors::signing
