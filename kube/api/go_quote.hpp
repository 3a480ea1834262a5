#pragma once

#include <string>
#include <string_view>

namespace istio_csr::kube {

/// `s` quoted as Go's `%q` (`strconv.Quote`) does for ASCII: `"`, `\` and
/// control characters escaped (`\n`, `\t`, ..., else `\xNN`); other bytes
/// copied. Kubernetes and upstream messages quote names this way, and ours
/// must read the same.
std::string go_quote(std::string_view s);

} // namespace istio_csr::kube
