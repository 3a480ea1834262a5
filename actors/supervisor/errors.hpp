#pragma once

#include <cstdint>
#include <string>

#include "caf/atom.hpp"
#include "caf/error.hpp"
#include "caf/fwd.hpp"

namespace istio_csr::actors {

/// Errors produced by the supervision machinery (category
/// `supervisor_error_category`, rendered by `errors::describe`).
enum class supervisor_errc : uint8_t {
  /// The incarnation of a child that was handling a request terminated
  /// before answering it. The request may or may not have taken effect:
  /// callers retry idempotent requests (the gRPC bridge maps this to
  /// UNAVAILABLE).
  child_restarted = 1,
  /// The child was stopped for good (removed, not restarted by its policy,
  /// or its supervisor shut down) while the request waited for it.
  child_stopped,
  /// `add_child` with a name that is already in use.
  duplicate_child,
  /// No child with the given name.
  no_such_child,
  /// The supervisor is shutting down and accepts no new children.
  shutting_down,
  /// A child failed more often than the intensity limit allows.
  gave_up,
  /// A child's spawn function threw or returned an invalid handle.
  start_failed,
  /// A child spec without a name or without a spawn function.
  invalid_spec,
  /// The child was ended on purpose, as a crash (`kill_child_atom`: the
  /// debug endpoint, chaos mode, tests). Its supervisor restarts it like
  /// any failed child.
  killed,
};

/// The error category atom of `supervisor_errc`.
constexpr caf::atom_value supervisor_error_category = caf::atom("supervisor");

/// Returns the enumerator's name, e.g. "child_restarted".
std::string to_string(supervisor_errc x);

/// Makes a `caf::error` of category `supervisor_error_category`.
caf::error make_error(supervisor_errc x);

/// Makes a `caf::error` with a human-readable context string.
caf::error make_error(supervisor_errc x, std::string context);

} // namespace istio_csr::actors
