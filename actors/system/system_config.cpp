#include "actors/system/system_config.hpp"

#include <thread>

#include "caf/atom.hpp"

#include "actors/supervisor/errors.hpp"

namespace istio_csr::actors {

system_config::system_config() {
  auto threads = std::thread::hardware_concurrency();
  set("scheduler.max-threads", static_cast<size_t>(threads > 0 ? threads : 2));
  set("logger.file-verbosity", caf::atom("quiet"));
  set("logger.console-verbosity", caf::atom("quiet"));
  set("logger.console", caf::atom("none"));
  add_supervisor_error_category(*this);
}

} // namespace istio_csr::actors
