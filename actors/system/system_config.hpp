#pragma once

#include "caf/actor_system_config.hpp"

namespace istio_csr::actors {

/// The actor system configuration of the agent (and of actor tests, as
/// `test_coordinator_fixture<actors::system_config>`):
/// - as many scheduler threads as the hardware has, scheduled by work
///   sharing (no polling when idle; `ICSR_CAF_SCHEDULER=stealing` selects
///   CAF's default, for benchmarks);
/// - CAF's own logger silent (no log file, no console output): we log
///   through `logging/`;
/// - every error category of the project registered, so
///   `actor_system::render` renders as `errors::describe` does.
/// Command-line arguments and `caf-application.ini` are not read: the
/// agent's flags are parsed by `config/`.
class system_config : public caf::actor_system_config {
 public:
  system_config();
};

} // namespace istio_csr::actors
