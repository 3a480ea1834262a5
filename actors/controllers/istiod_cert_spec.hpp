#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/api/certificate.hpp"
#include "kube/api/condition.hpp"

namespace istio_csr::config {
struct options;
} // namespace istio_csr::config

namespace istio_csr::actors::controllers {

/// The names of istiod's certificate (upstream `makeDNSNamesFromRevisions`).
struct istiod_names {
  /// `istiod.<ns>.svc`, whatever the revisions.
  std::string common_name;
  /// One per revision, in order, duplicates kept: `default` gives
  /// `istiod.<ns>.svc`, any other `r` gives `istiod-<r>.<ns>.svc`. No
  /// revisions give `[common_name]`.
  std::vector<std::string> dns_names;
};

istiod_names istiod_dns_names(std::string_view namespace_,
                              const std::vector<std::string>& revisions);

/// What the dynamic istiod Certificate looks like (docs/upstream.md §1.6, §6),
/// from the command line.
struct istiod_cert_settings {
  std::string name = "istiod-dynamic";
  std::string namespace_ = "istio-system";
  std::string trust_domain = "cluster.local";
  std::chrono::seconds duration{std::chrono::hours{1}};
  std::chrono::seconds renew_before{std::chrono::minutes{30}};
  /// "RSA" or "ECDSA".
  std::string key_algorithm = "RSA";
  int key_size = 2048;
  /// As given (an empty list means `[default]`).
  std::vector<std::string> revisions;
  std::vector<std::string> additional_dns_names;
  /// Set on the Certificate when it is created, never updated.
  std::map<std::string, std::string> additional_annotations;
};

/// The settings of `--istiod-cert-*` and `--trust-domain`.
istiod_cert_settings istiod_cert_settings_from(const config::options& opts);

/// The desired `spec`: commonName, dnsNames (revisions, then the additional
/// names), `uris: [spiffe://<td>/ns/<ns>/sa/istiod-service-account]`,
/// `secretName: istiod-tls`, duration, renewBefore, privateKey
/// {rotationPolicy Always, algorithm, size}, `revisionHistoryLimit: 1`,
/// issuerRef.
kube::certificate_spec istiod_cert_spec(const istiod_cert_settings& settings,
                                        const kube::issuer_ref& issuer);

/// The whole Certificate to create (with the additional annotations).
nlohmann::json make_istiod_certificate(const istiod_cert_settings& settings,
                                       const kube::issuer_ref& issuer);

/// `current` with its `spec` replaced by the desired one (metadata,
/// including annotations and resourceVersion, kept), or null when the spec
/// is already the desired one.
nlohmann::json istiod_cert_update(const istiod_cert_settings& settings,
                                  const kube::issuer_ref& issuer,
                                  const nlohmann::json& current);

} // namespace istio_csr::actors::controllers
