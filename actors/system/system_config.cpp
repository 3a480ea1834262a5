#include "actors/system/system_config.hpp"

#include <cstdlib>
#include <string_view>
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
  // Work sharing: idle workers wait on a condition variable. CAF's default
  // work stealing polls (sleeps of 50 us, then 10 ms, per worker), which
  // costs CPU when idle and context switches under load
  // (docs/benchmarks.md compares both; ICSR_CAF_SCHEDULER=stealing
  // selects CAF's default for such comparisons).
  const char* policy = std::getenv("ICSR_CAF_SCHEDULER");
  if (policy != nullptr && std::string_view{policy} == "stealing")
    set("scheduler.policy", caf::atom("stealing"));
  else
    set("scheduler.policy", caf::atom("sharing"));
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
