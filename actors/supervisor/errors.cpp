#include "actors/supervisor/errors.hpp"

#include "caf/make_message.hpp"
#include "caf/message.hpp"

#include "errors/describe.hpp"

namespace istio_csr::actors {

std::string to_string(supervisor_errc x) {
  switch (x) {
    case supervisor_errc::child_restarted: return "child_restarted";
    case supervisor_errc::child_stopped: return "child_stopped";
    case supervisor_errc::duplicate_child: return "duplicate_child";
    case supervisor_errc::no_such_child: return "no_such_child";
    case supervisor_errc::shutting_down: return "shutting_down";
    case supervisor_errc::gave_up: return "gave_up";
    case supervisor_errc::start_failed: return "start_failed";
    case supervisor_errc::invalid_spec: return "invalid_spec";
  }
  return "supervisor_errc(" + std::to_string(static_cast<int>(x)) + ")";
}

namespace {

std::string code_name(uint8_t code) {
  return to_string(static_cast<supervisor_errc>(code));
}

bool registered() {
  static const bool done = errors::register_category(supervisor_error_category,
                                                     "supervisor", code_name);
  return done;
}

} // namespace

caf::error make_error(supervisor_errc x) {
  static_cast<void>(registered());
  return {static_cast<uint8_t>(x), supervisor_error_category};
}

caf::error make_error(supervisor_errc x, std::string context) {
  static_cast<void>(registered());
  return {static_cast<uint8_t>(x), supervisor_error_category,
          caf::make_message(std::move(context))};
}

} // namespace istio_csr::actors
