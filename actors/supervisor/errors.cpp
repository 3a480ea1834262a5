#include "actors/supervisor/errors.hpp"

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
    case supervisor_errc::killed: return "killed";
  }
  return "supervisor_errc(" + std::to_string(static_cast<int>(x)) + ")";
}

caf::error make_error(supervisor_errc x) {
  return errors::make_error(supervisor_error_category, "supervisor", x);
}

caf::error make_error(supervisor_errc x, std::string context) {
  return errors::make_error(supervisor_error_category, "supervisor", x,
                            std::move(context));
}

} // namespace istio_csr::actors
