#include "devcluster/bootstrap.hpp"

#include <chrono>

#include "devcluster/crypto.hpp"
#include "devcluster/util.hpp"

namespace istio_csr::devcluster {

std::vector<bootstrap_object> bootstrap_objects() {
  using nlohmann::json;
  std::vector<bootstrap_object> out;
  for (auto* ns : {"default", "kube-system", "kube-public", "kube-node-lease",
                   "istio-system", "cert-manager"})
    out.push_back({"api/v1/namespaces", json{{"apiVersion", "v1"},
                                             {"kind", "Namespace"},
                                             {"metadata", {{"name", ns}}}}});
  auto root = cert_authority::self_signed(key_pair::generate_ec_p256(),
                                          "istio-ca", "cluster.local",
                                          std::chrono::hours(24 * 365 * 10));
  auto root_pem = base64_encode(root.cert_pem());
  out.push_back({"api/v1/namespaces/istio-system/secrets",
                 json{{"apiVersion", "v1"},
                      {"kind", "Secret"},
                      {"metadata", {{"name", "istio-ca"}}},
                      {"type", "kubernetes.io/tls"},
                      {"data",
                       {{"tls.crt", root_pem},
                        {"tls.key", base64_encode(root.key().private_pem())},
                        {"ca.crt", root_pem}}}}});
  out.push_back({"apis/cert-manager.io/v1/namespaces/istio-system/issuers",
                 json{{"apiVersion", "cert-manager.io/v1"},
                      {"kind", "Issuer"},
                      {"metadata", {{"name", "istio-ca"}}},
                      {"spec", {{"ca", {{"secretName", "istio-ca"}}}}}}});
  return out;
}

} // namespace istio_csr::devcluster
