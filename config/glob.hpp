#pragma once

#include <string>
#include <string_view>

#include "caf/error.hpp"

namespace istio_csr::config {

/// Checks a shell pattern as `fnmatch(3)` reads it (`*`, `?`, `[...]` with
/// `!` or `^` negation, `\` escapes): not empty, every `[` closed, no `\`
/// at the end. `fnmatch` itself takes such mistakes literally, which would
/// silently match nothing. Returns `sec::invalid_argument` with the reason.
caf::error validate_glob(std::string_view pattern);

/// Whether `text` matches `pattern` (`fnmatch` without flags: `*` and `?`
/// match `/` too).
bool glob_matches(const std::string& pattern, const std::string& text);

} // namespace istio_csr::config
