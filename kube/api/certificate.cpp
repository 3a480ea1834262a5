#include "kube/api/certificate.hpp"

#include "kube/api/time.hpp"

namespace istio_csr::kube {

nlohmann::json certificate_spec_json(const certificate_spec& spec) {
  auto result = nlohmann::json::object();
  if (!spec.common_name.empty())
    result["commonName"] = spec.common_name;
  if (!spec.dns_names.empty())
    result["dnsNames"] = spec.dns_names;
  if (!spec.uris.empty())
    result["uris"] = spec.uris;
  result["secretName"] = spec.secret_name;
  if (spec.duration.count() > 0)
    result["duration"] = format_go_duration(spec.duration);
  if (spec.renew_before.count() > 0)
    result["renewBefore"] = format_go_duration(spec.renew_before);
  auto key = nlohmann::json::object();
  if (!spec.private_key_rotation_policy.empty())
    key["rotationPolicy"] = spec.private_key_rotation_policy;
  if (!spec.private_key_algorithm.empty())
    key["algorithm"] = spec.private_key_algorithm;
  if (spec.private_key_size > 0)
    key["size"] = spec.private_key_size;
  if (!key.empty())
    result["privateKey"] = std::move(key);
  if (spec.revision_history_limit)
    result["revisionHistoryLimit"] = *spec.revision_history_limit;
  result["issuerRef"] = to_json(spec.issuer);
  return result;
}

nlohmann::json
make_certificate(std::string_view namespace_, std::string_view name,
                 const certificate_spec& spec,
                 const std::map<std::string, std::string>& annotations) {
  return nlohmann::json{
    {"apiVersion", "cert-manager.io/v1"},
    {"kind", "Certificate"},
    {"metadata", make_metadata(namespace_, name, {}, annotations)},
    {"spec", certificate_spec_json(spec)},
  };
}

bool certificate_view::ready() const {
  auto c = find_condition(conditions(), "Ready");
  return c && c->status == "True";
}

std::vector<std::string> certificate_view::dns_names() const {
  std::vector<std::string> result;
  auto member = member_at(json(), {"spec", "dnsNames"});
  if (member != nullptr && member->is_array())
    for (auto& x : *member)
      if (x.is_string())
        result.push_back(x.get<std::string>());
  return result;
}

} // namespace istio_csr::kube
