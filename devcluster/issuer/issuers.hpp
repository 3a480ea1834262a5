#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/client/informer_cache.hpp"
#include "pki/certificate.hpp"
#include "pki/private_key.hpp"

namespace istio_csr::devcluster::issuer {

/// The test behaviour annotation of an Issuer/ClusterIssuer (README.md).
inline constexpr std::string_view behaviour_annotation
  = "devcluster.istio-csr.io/behaviour";

/// The delay of `behaviour: delay`, a Go duration (default 1s).
inline constexpr std::string_view delay_annotation
  = "devcluster.istio-csr.io/delay";

/// Where a ClusterIssuer's Secrets live (cert-manager's
/// `--cluster-resource-namespace` default).
inline constexpr std::string_view cluster_resource_namespace = "cert-manager";

/// What an issuer does with the requests it receives.
enum class behaviour {
  normal,   ///< approve and sign
  deny,     ///< `Denied=True` (reason `devcluster`)
  fail,     ///< approve, then `Ready=False` reason `Failed`
  never,    ///< leave the request untouched
  delay,    ///< approve, sign after `devcluster.istio-csr.io/delay`
  empty_ca, ///< sign, but leave `status.ca` empty
  /// Misissue workload certificates (CSRs with URI SANs; others are signed
  /// normally): for a fresh key instead of the CSR's.
  wrong_key,
  /// Misissue workload certificates: with `misissued_identity` as the only
  /// URI SAN instead of the CSR's.
  wrong_identity,
};

/// The URI SAN of `behaviour::wrong_identity` certificates.
inline constexpr std::string_view misissued_identity
  = "spiffe://cluster.local/ns/istio-system/sa/istiod";

std::string to_string(behaviour b);

/// The kind of signer an issuer spec configures.
enum class issuer_type { ca, self_signed, unsupported };

/// Looks up a cached Secret (nullptr when absent).
using secret_lookup = std::function<kube::object_ptr(
  std::string_view namespace_, std::string_view name)>;

/// An Issuer or ClusterIssuer as the controllers see it: its type, whether it
/// can sign (and why not), its CA material and its test behaviour.
struct evaluated_issuer {
  issuer_type type = issuer_type::unsupported;
  /// The `Ready` condition cert-manager's issuer controller would set.
  bool ready = false;
  std::string reason;
  std::string message;
  /// Where the CA Secret is (CA issuers).
  std::string secret_namespace;
  std::string secret_name;
  /// `tls.crt` (a bundle), plus `ca.crt` when `tls.crt` holds a single
  /// certificate (cert-manager's `SecretTLSKeyPairAndCA`).
  std::vector<pki::certificate> ca_certs;
  std::optional<pki::private_key> ca_key;
  behaviour mode = behaviour::normal;
  std::chrono::milliseconds delay{1000};
};

/// Evaluates an Issuer (`cluster_scoped` false: Secrets in its namespace) or
/// ClusterIssuer (Secrets in `cluster_resource_namespace`).
evaluated_issuer evaluate_issuer(const nlohmann::json& issuer,
                                 bool cluster_scoped,
                                 const secret_lookup& secrets);

/// The CA Secret an issuer spec names, as {namespace, name}; empty name when
/// it is not a CA issuer.
std::pair<std::string, std::string> ca_secret_of(const nlohmann::json& issuer,
                                                 bool cluster_scoped);

} // namespace istio_csr::devcluster::issuer
