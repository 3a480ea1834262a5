#include "kube/api/certificate_request.hpp"

#include "kube/api/base64.hpp"
#include "kube/api/time.hpp"

namespace istio_csr::kube {

nlohmann::json make_certificate_request(const certificate_request_spec& spec) {
  std::map<std::string, std::string> annotations;
  annotations.emplace(std::string{identities_annotation}, spec.identities);
  for (auto& [key, value] : spec.extra_annotations)
    annotations[key] = value;
  auto body = nlohmann::json{
    {"request", base64_encode(spec.csr_pem)},
    {"duration", format_go_duration(spec.duration)},
    {"usages", spec.usages},
    {"isCA", spec.is_ca},
    {"issuerRef", to_json(spec.issuer)},
  };
  return nlohmann::json{
    {"apiVersion", "cert-manager.io/v1"},
    {"kind", "CertificateRequest"},
    {"metadata", make_metadata(spec.namespace_, spec.name, {}, annotations,
                               spec.generate_name)},
    {"spec", std::move(body)},
  };
}

bool certificate_request_view::ready() const {
  auto c = find_condition(conditions(), "Ready");
  return c && c->status == "True";
}

bool certificate_request_view::denied() const {
  for (auto& c : conditions())
    if (c.type == "Denied" && c.status == "True")
      return true;
  return false;
}

bool certificate_request_view::failed() const {
  for (auto& c : conditions())
    if (c.type == "Ready" && c.status == "False" && c.reason == "Failed")
      return true;
  return false;
}

namespace {

std::optional<std::string> decoded(const std::string& text) {
  if (text.empty())
    return std::nullopt;
  return base64_decode(text);
}

} // namespace

std::optional<std::string> certificate_request_view::certificate() const {
  return decoded(string_at(json(), {"status", "certificate"}));
}

std::optional<std::string> certificate_request_view::ca() const {
  return decoded(string_at(json(), {"status", "ca"}));
}

std::optional<std::string> certificate_request_view::request() const {
  return decoded(string_at(json(), {"spec", "request"}));
}

std::vector<std::string> certificate_request_view::usages() const {
  std::vector<std::string> result;
  auto member = member_at(json(), {"spec", "usages"});
  if (member != nullptr && member->is_array())
    for (auto& x : *member)
      if (x.is_string())
        result.push_back(x.get<std::string>());
  return result;
}

bool certificate_request_view::is_ca() const {
  auto member = member_at(json(), {"spec", "isCA"});
  return member != nullptr && member->is_boolean() && member->get<bool>();
}

} // namespace istio_csr::kube
