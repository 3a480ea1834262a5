#include "metrics/registry.hpp"

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "metrics/citadel.hpp"
#include "metrics/controller.hpp"
#include "metrics/family.hpp"
#include "metrics/grpc_server.hpp"
#include "metrics/istio_csr.hpp"
#include "metrics/leader_election.hpp"
#include "metrics/process_collector.hpp"
#include "metrics/tls_provider.hpp"

namespace istio_csr::metrics {

prometheus::Registry& registry() {
  // Never destroyed: threads that outlive main() (a Kubernetes client's I/O
  // thread finishing a request during exit) still record into it, and the
  // series handles cached in thread_locals point into it.
  static auto* instance = new prometheus::Registry;
  return *instance;
}

namespace detail {

prometheus::Family<prometheus::Counter>&
counter_family(const std::string& name, const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(registry());
}

prometheus::Family<prometheus::Gauge>& gauge_family(const std::string& name,
                                                    const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(registry());
}

prometheus::Family<prometheus::Histogram>&
histogram_family(const std::string& name, const std::string& help) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(
    registry());
}

} // namespace detail

std::string scrape() {
  // Families whose series must exist before their first event.
  grpc_server_series();
  tls_provider();
  citadel();
  leader_election();
  ours();
  update_workqueue_gauges();
  auto families = registry().Collect();
  for (auto& f : collect_process())
    families.push_back(std::move(f));
  return prometheus::TextSerializer{}.Serialize(families);
}

} // namespace istio_csr::metrics
