#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace istio_csr::devcluster {

/// One object of the bootstrap: where it is created and what.
struct bootstrap_object {
  /// Collection path without the leading slash, e.g.
  /// `api/v1/namespaces/istio-system/secrets`.
  std::string collection;
  /// The object (kind and apiVersion included).
  nlohmann::json body;
};

/// What a fresh devcluster holds and what the tests and `make run` expect of
/// any cluster: the standard namespaces plus `istio-system`, the mesh root a
/// user brings (Secret `istio-system/istio-ca`: a new self-signed ECDSA P-256
/// CA, 10 years) and the CA Issuer `istio-system/istio-ca` using it. Each
/// call makes a new CA key.
std::vector<bootstrap_object> bootstrap_objects();

} // namespace istio_csr::devcluster
