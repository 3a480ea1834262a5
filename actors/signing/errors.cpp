#include "actors/signing/errors.hpp"

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

caf::error make_error(signing_errc x) {
  return errors::make_error(signing_error_category, "signing", x);
}

caf::error make_error(signing_errc x, std::string context) {
  return errors::make_error(signing_error_category, "signing", x,
                            std::move(context));
}

} // namespace istio_csr::actors::signing
