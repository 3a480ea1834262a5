#include "actors/supervisor/errors.hpp"

#include "caf/actor_system_config.hpp"
#include "caf/make_message.hpp"
#include "caf/message.hpp"

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

caf::error make_error(supervisor_errc x) {
  return {static_cast<uint8_t>(x), supervisor_error_category};
}

caf::error make_error(supervisor_errc x, std::string context) {
  return {static_cast<uint8_t>(x), supervisor_error_category,
          caf::make_message(std::move(context))};
}

void add_supervisor_error_category(caf::actor_system_config& cfg) {
  cfg.add_error_category(
    supervisor_error_category,
    [](uint8_t code, caf::atom_value, const caf::message& context) {
      std::string result = "supervisor_error(";
      result += to_string(static_cast<supervisor_errc>(code));
      if (context.match_elements<std::string>()) {
        result += ", \"";
        result += context.get_as<std::string>(0);
        result += '"';
      }
      result += ')';
      return result;
    });
}

} // namespace istio_csr::actors
