#pragma once

#include <cstdint>

namespace istio_csr::process {

/// The process's open-file limit (RLIMIT_NOFILE).
struct fd_limit {
  std::uint64_t soft = 0;
  std::uint64_t hard = 0;
};

/// Raises the soft open-file limit to the hard one (a server's connections
/// each take descriptors; the default soft limit is often 1024) and returns
/// the limit in force afterwards. Never lowers it.
fd_limit raise_fd_limit();

} // namespace istio_csr::process
