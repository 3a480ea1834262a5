#include "actors/system/system_config.hpp"

#include <thread>

#include "caf/atom.hpp"

#include "actors/ambient/errors.hpp"
#include "actors/signing/errors.hpp"
#include "actors/supervisor/errors.hpp"
#include "errors/describe.hpp"
#include "kube/api/errc.hpp"
#include "signing_api/sign_errc.hpp"

namespace istio_csr::actors {

system_config::system_config() {
  auto threads = std::thread::hardware_concurrency();
  set("scheduler.max-threads", static_cast<size_t>(threads > 0 ? threads : 2));
  set("logger.file-verbosity", caf::atom("quiet"));
  set("logger.console-verbosity", caf::atom("quiet"));
  set("logger.console", caf::atom("none"));
  // Every error category of the project, in one place.
  errors::add_categories(
    *this, {ambient::ambient_error_category, kube::error_category,
            signing::signing_error_category, signing_api::sign_error_category,
            supervisor_error_category});
}

} // namespace istio_csr::actors
