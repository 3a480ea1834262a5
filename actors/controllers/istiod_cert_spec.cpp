#include "actors/controllers/istiod_cert_spec.hpp"

#include "config/options.hpp"

namespace istio_csr::actors::controllers {

istiod_names istiod_dns_names(std::string_view namespace_,
                              const std::vector<std::string>& revisions) {
  std::string suffix = ".";
  suffix += namespace_;
  suffix += ".svc";
  istiod_names result;
  result.common_name = "istiod" + suffix;
  if (revisions.empty()) {
    result.dns_names.push_back(result.common_name);
    return result;
  }
  result.dns_names.reserve(revisions.size());
  for (const auto& rev : revisions)
    result.dns_names.push_back(rev == "default" ? result.common_name
                                                : "istiod-" + rev + suffix);
  return result;
}

istiod_cert_settings istiod_cert_settings_from(const config::options& opts) {
  using std::chrono::duration_cast;
  using std::chrono::seconds;
  const auto& ic = opts.istiod_cert;
  istiod_cert_settings s;
  s.name = ic.name;
  s.namespace_ = ic.namespace_;
  s.trust_domain = opts.tls.trust_domain;
  s.duration = duration_cast<seconds>(ic.cert_duration);
  s.renew_before = duration_cast<seconds>(ic.renew_before);
  s.key_algorithm = ic.key_algorithm;
  s.key_size = ic.key_size;
  s.revisions = ic.istio_revisions;
  s.additional_dns_names = ic.additional_dns_names;
  s.additional_annotations = ic.additional_annotations;
  return s;
}

kube::certificate_spec istiod_cert_spec(const istiod_cert_settings& settings,
                                        const kube::issuer_ref& issuer) {
  auto names = istiod_dns_names(settings.namespace_, settings.revisions);
  kube::certificate_spec spec;
  spec.common_name = std::move(names.common_name);
  spec.dns_names = std::move(names.dns_names);
  spec.dns_names.insert(spec.dns_names.end(),
                        settings.additional_dns_names.begin(),
                        settings.additional_dns_names.end());
  spec.uris.push_back("spiffe://" + settings.trust_domain + "/ns/"
                      + settings.namespace_ + "/sa/istiod-service-account");
  spec.secret_name = "istiod-tls";
  spec.duration = settings.duration;
  spec.renew_before = settings.renew_before;
  spec.private_key_rotation_policy = "Always";
  spec.private_key_algorithm = settings.key_algorithm;
  spec.private_key_size = settings.key_size;
  spec.revision_history_limit = 1;
  spec.issuer = issuer;
  return spec;
}

nlohmann::json make_istiod_certificate(const istiod_cert_settings& settings,
                                       const kube::issuer_ref& issuer) {
  return kube::make_certificate(settings.namespace_, settings.name,
                                istiod_cert_spec(settings, issuer),
                                settings.additional_annotations);
}

nlohmann::json istiod_cert_update(const istiod_cert_settings& settings,
                                  const kube::issuer_ref& issuer,
                                  const nlohmann::json& current) {
  auto desired
    = kube::certificate_spec_json(istiod_cert_spec(settings, issuer));
  if (auto i = current.find("spec"); i != current.end() && *i == desired)
    return nullptr;
  auto result = current;
  result["spec"] = std::move(desired);
  // The main resource ignores status anyway; do not send it back.
  result.erase("status");
  return result;
}

} // namespace istio_csr::actors::controllers
