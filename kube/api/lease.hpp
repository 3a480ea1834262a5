#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "kube/api/object.hpp"

namespace istio_csr::kube {

/// The spec of a `coordination.k8s.io/v1 Lease` (leader election).
struct lease_spec {
  std::string holder_identity;
  std::chrono::seconds lease_duration{0};
  std::optional<std::chrono::system_clock::time_point> acquire_time;
  std::optional<std::chrono::system_clock::time_point> renew_time;
  int lease_transitions = 0;
};

/// Read-only view of a Lease.
class lease_view : public object_ref {
 public:
  using object_ref::object_ref;

  /// The spec; unparsable times read as absent.
  lease_spec spec() const;
};

/// The JSON `spec` of a Lease (times as MicroTime).
nlohmann::json lease_spec_json(const lease_spec& spec);

/// A complete Lease object for create.
nlohmann::json make_lease(std::string_view namespace_, std::string_view name,
                          const lease_spec& spec);

} // namespace istio_csr::kube
