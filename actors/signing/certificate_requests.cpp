#include "actors/signing/certificate_requests.hpp"

#include "kube/api/certificate_request.hpp"
#include "kube/api/object.hpp"
#include "kube/client/resource.hpp"

namespace istio_csr::actors::signing {

std::string managed_by_selector() {
  std::string result{managed_by_label};
  result += '=';
  result += managed_by_value;
  return result;
}

nlohmann::json make_cr(const cr_settings& settings, const cr_request& req) {
  kube::certificate_request_spec spec;
  spec.namespace_ = settings.namespace_;
  spec.identities = req.identities;
  spec.extra_annotations = settings.annotations;
  spec.csr_pem = req.csr_pem;
  spec.duration = req.duration;
  spec.usages = req.usages;
  spec.is_ca = false;
  spec.issuer = req.issuer;
  auto cr = kube::make_certificate_request(spec);
  cr["metadata"]["labels"][std::string{managed_by_label}]
    = std::string{managed_by_value};
  return cr;
}

cr_outcome outcome_of(const nlohmann::json& cr) {
  kube::certificate_request_view view{cr};
  if (view.denied())
    return cr_outcome::denied;
  if (view.failed())
    return cr_outcome::failed;
  // Issued as soon as the field is set, even if it does not decode: the
  // response chain then fails to parse, which is the answer.
  if (!kube::string_at(cr, {"status", "certificate"}).empty())
    return cr_outcome::issued;
  return cr_outcome::pending;
}

finished_request finished_from(const nlohmann::json& cr) {
  kube::certificate_request_view view{cr};
  finished_request out;
  out.name = kube::object_ref{cr}.name();
  out.outcome = outcome_of(cr);
  out.certificate = view.certificate();
  out.ca = view.ca();
  out.conditions = kube::to_string(kube::conditions_of(cr));
  return out;
}

kube::request delete_cr(const std::string& namespace_,
                        const std::string& name) {
  return kube::request::remove(kube::resources::certificaterequests, namespace_,
                               name);
}

} // namespace istio_csr::actors::signing
