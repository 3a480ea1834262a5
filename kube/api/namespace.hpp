#pragma once

#include "kube/api/object.hpp"

namespace istio_csr::kube {

/// Read-only view of a `v1 Namespace`.
class namespace_view : public object_ref {
 public:
  using object_ref::object_ref;

  /// `status.phase`: "Active" or "Terminating" (empty when absent).
  const std::string& phase() const {
    return string_at(json(), {"status", "phase"});
  }

  /// Whether the namespace is being deleted (phase Terminating or a
  /// deletion timestamp).
  bool terminating() const {
    return phase() == "Terminating" || deleting();
  }
};

} // namespace istio_csr::kube
