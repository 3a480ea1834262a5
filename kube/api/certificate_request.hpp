#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kube/api/condition.hpp"
#include "kube/api/object.hpp"

namespace istio_csr::kube {

/// The annotation carrying the identities of a request (docs/upstream.md §3.1).
inline constexpr std::string_view identities_annotation
  = "istio.cert-manager.io/identities";

/// What `make_certificate_request` builds: a cert-manager
/// `CertificateRequest` as upstream istio-csr creates it
/// (docs/upstream.md §3.1).
struct certificate_request_spec {
  std::string namespace_;
  /// A fixed name; when empty, `generate_name` is used.
  std::string name;
  std::string generate_name = "istio-csr-";
  /// Value of `istio.cert-manager.io/identities` (SPIFFE ID, SANs joined by
  /// commas, or `istio-csr-serving`).
  std::string identities;
  /// Merged over the identities annotation (they may overwrite it).
  std::map<std::string, std::string> extra_annotations;
  /// The CSR PEM exactly as received (base64-encoded into `spec.request`).
  std::string csr_pem;
  std::chrono::seconds duration{0};
  /// e.g. {"client auth", "server auth"}.
  std::vector<std::string> usages;
  bool is_ca = false;
  kube::issuer_ref issuer;
};

/// A complete `cert-manager.io/v1 CertificateRequest`: no labels, no owner
/// references, no username/extra (the API server fills them).
nlohmann::json make_certificate_request(const certificate_request_spec& spec);

/// Read-only view of a CertificateRequest.
class certificate_request_view : public object_ref {
 public:
  using object_ref::object_ref;

  std::vector<condition> conditions() const {
    return conditions_of(json());
  }

  /// `Ready=True`.
  bool ready() const;

  /// Any `Denied=True` condition.
  bool denied() const;

  /// `Ready=False` with reason `Failed`.
  bool failed() const;

  /// `status.certificate`, base64-decoded (the PEM chain); nullopt when
  /// absent, empty or not valid base64.
  std::optional<std::string> certificate() const;

  /// `status.ca`, base64-decoded; nullopt when absent or invalid.
  std::optional<std::string> ca() const;

  /// `spec.request`, base64-decoded (the CSR PEM).
  std::optional<std::string> request() const;

  kube::issuer_ref issuer() const {
    return issuer_ref_of(member_at(json(), {"spec", "issuerRef"}));
  }

  /// `spec.duration` as written (Go duration text).
  const std::string& duration() const {
    return string_at(json(), {"spec", "duration"});
  }

  std::vector<std::string> usages() const;

  bool is_ca() const;
};

} // namespace istio_csr::kube
