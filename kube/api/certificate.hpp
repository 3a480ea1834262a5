#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kube/api/condition.hpp"
#include "kube/api/object.hpp"

namespace istio_csr::kube {

/// The parts of a cert-manager `Certificate` spec the agent sets (the
/// dynamic istiod certificate, docs/upstream.md §6).
struct certificate_spec {
  std::string common_name;
  std::vector<std::string> dns_names;
  std::vector<std::string> uris;
  std::string secret_name;
  std::chrono::seconds duration{0};     ///< omitted when zero
  std::chrono::seconds renew_before{0}; ///< omitted when zero
  /// `privateKey`: rotationPolicy ("Always"), algorithm ("RSA"/"ECDSA"),
  /// size (omitted when zero).
  std::string private_key_rotation_policy;
  std::string private_key_algorithm;
  int private_key_size = 0;
  std::optional<int> revision_history_limit;
  kube::issuer_ref issuer;
};

/// The JSON `spec` of a Certificate.
nlohmann::json certificate_spec_json(const certificate_spec& spec);

/// A complete `cert-manager.io/v1 Certificate` object for create.
nlohmann::json
make_certificate(std::string_view namespace_, std::string_view name,
                 const certificate_spec& spec,
                 const std::map<std::string, std::string>& annotations = {});

/// Read-only view of a Certificate.
class certificate_view : public object_ref {
 public:
  using object_ref::object_ref;

  std::vector<condition> conditions() const {
    return conditions_of(json());
  }

  /// `Ready=True`.
  bool ready() const;

  const std::string& secret_name() const {
    return string_at(json(), {"spec", "secretName"});
  }

  const std::string& common_name() const {
    return string_at(json(), {"spec", "commonName"});
  }

  std::vector<std::string> dns_names() const;

  kube::issuer_ref issuer() const {
    return issuer_ref_of(member_at(json(), {"spec", "issuerRef"}));
  }
};

} // namespace istio_csr::kube
