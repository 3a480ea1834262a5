#include "process/fd_limit.hpp"

#include <sys/resource.h>

namespace istio_csr::process {

fd_limit raise_fd_limit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0)
    return {};
  if (lim.rlim_cur < lim.rlim_max) {
    auto raised = lim;
    raised.rlim_cur = lim.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0)
      lim = raised;
  }
  return {static_cast<std::uint64_t>(lim.rlim_cur),
          static_cast<std::uint64_t>(lim.rlim_max)};
}

} // namespace istio_csr::process
