#pragma once

#include <string>

namespace istio_csr::devcluster::issuer {

/// `devcluster bootstrap --kubeconfig FILE`: creates on the cluster of a
/// kubeconfig what a fresh devcluster holds (`devcluster::bootstrap_objects`:
/// namespace `istio-system`, the mesh root Secret and the CA Issuer
/// `istio-ca`), leaving every object that already exists as it is, so a real
/// cluster can run the tests. Prints one line per object; returns the
/// process exit code (0 when every object exists afterwards).
int bootstrap(const std::string& kubeconfig_path);

} // namespace istio_csr::devcluster::issuer
