#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>

#include "caf/atom.hpp"
#include "caf/error.hpp"
#include "caf/fwd.hpp"
#include "caf/make_message.hpp"

namespace istio_csr::errors {

/// The name of one code of an error category, e.g. "not_found".
using code_namer = std::string (*)(uint8_t code);

/// Makes `describe` name the codes of `category` as `<prefix>.<name>`.
/// Every module with an error enum registers it from its `make_error`, so
/// an error is always described by name (thread-safe; registering again is
/// a no-op). Returns true (for use in a function-local static).
bool register_category(caf::atom_value category, const char* prefix,
                       code_namer namer);

namespace detail {

template <class Enum>
std::string code_name(uint8_t code) {
  return to_string(static_cast<Enum>(code)); // the enum's own, found by ADL
}

} // namespace detail

/// An error of the module enum `code` in `category` (named `prefix` by
/// `describe`), with `context` when not empty. The category is registered
/// on first use: each module's `make_error` is this one call.
template <class Enum>
caf::error make_error(caf::atom_value category, const char* prefix, Enum code,
                      std::string context = {}) {
  static const bool registered
    = register_category(category, prefix, detail::code_name<Enum>);
  static_cast<void>(registered);
  if (context.empty())
    return caf::error{static_cast<uint8_t>(code), category};
  return caf::error{static_cast<uint8_t>(code), category,
                    caf::make_message(std::move(context))};
}

/// The `Enum` code of `err` if it is of `category`, else nullopt (also for
/// no error): each module's `*_errc_of` is this one call.
template <class Enum>
std::optional<Enum> code_of(const caf::error& err,
                            caf::atom_value category) noexcept {
  if (!err || err.category() != category)
    return std::nullopt;
  return static_cast<Enum>(err.code());
}

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
