#include "metrics/leader_election.hpp"

#include "metrics/family.hpp"

namespace istio_csr::metrics {

const gauge& leader_election() {
  static const gauge instance = detail::add(
    detail::gauge_family("leader_election_master_status",
                         "Gauge of if the reporting system is master of the "
                         "relevant lease, 0 indicates backup, 1 indicates "
                         "master. 'name' is the string used to identify the "
                         "lease."),
    {{"name", "istio-csr"}});
  return instance;
}

} // namespace istio_csr::metrics
