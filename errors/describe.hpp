#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>

#include "caf/atom.hpp"
#include "caf/error.hpp"
#include "caf/fwd.hpp"

namespace istio_csr::errors {

/// The name of one code of an error category, e.g. "not_found".
using code_namer = std::string (*)(uint8_t code);

/// Makes `describe` name the codes of `category` as `<prefix>.<name>`.
/// Every module with an error enum registers it from its `make_error`, so
/// an error is always described by name (thread-safe; registering again is
/// a no-op). Returns true (for use in a function-local static).
bool register_category(caf::atom_value category, const char* prefix,
                       code_namer namer);

/// The one rendering of an error for logs: `<category>.<code>[: <message>]`,
/// e.g. `kube.not_found: configmaps "x" not found` or
/// `system.request_timeout`; "none" for no error. Works without an actor
/// system. Never includes anything but the error's own texts.
std::string describe(const caf::error& err);

/// The human-readable text of `err`: its context strings joined with ": ",
/// else `describe(err)`; empty for no error. For messages to users (flag
/// errors, reasons in log fields) where the code adds nothing.
std::string message(const caf::error& err);

/// Makes `actor_system::render` render the errors of `categories` (and
/// CAF's own) as `describe` does. `actors::system_config` calls it with every
/// category of the project: the one place that lists them.
void add_categories(caf::actor_system_config& cfg,
                    std::initializer_list<caf::atom_value> categories);

} // namespace istio_csr::errors
