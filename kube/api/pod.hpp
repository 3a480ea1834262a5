#pragma once

#include <string>

#include "kube/api/object.hpp"

namespace istio_csr::kube {

/// Read-only view of a `v1 Pod`: only what the agent uses.
class pod_view : public object_ref {
 public:
  using object_ref::object_ref;

  const std::string& service_account_name() const {
    return string_at(json(), {"spec", "serviceAccountName"});
  }

  const std::string& node_name() const {
    return string_at(json(), {"spec", "nodeName"});
  }

  /// `status.phase`: Pending, Running, Succeeded, Failed, Unknown.
  const std::string& phase() const {
    return string_at(json(), {"status", "phase"});
  }
};

/// An informer transform for pods: keeps only `metadata.{name, namespace,
/// uid, resourceVersion, deletionTimestamp}`, `spec.{serviceAccountName,
/// nodeName}` and `status.phase` (a few hundred bytes per pod instead of
/// several KiB).
nlohmann::json strip_pod(nlohmann::json pod);

} // namespace istio_csr::kube
