#include "devcluster/issuer/signer.hpp"

#include <algorithm>
#include <map>

#include "config/go_duration.hpp"
#include "devcluster/issuer/status.hpp"
#include "errors/describe.hpp"
#include "kube/api/base64.hpp"
#include "kube/api/certificate_request.hpp"
#include "pki/csr.hpp"
#include "pki/error.hpp"
#include "pki/extensions.hpp"
#include "pki/issue.hpp"
#include "pki/private_key.hpp"

namespace istio_csr::devcluster::issuer {

caf::expected<key_usages> map_key_usages(const std::vector<std::string>& usages,
                                         bool is_ca) {
  // cert-manager's apiutil.KeyUsageType / ExtKeyUsageType tables.
  static const std::map<std::string, unsigned, std::less<>> ku{
    {"signing", pki::key_usage::digital_signature},
    {"digital signature", pki::key_usage::digital_signature},
    {"content commitment", pki::key_usage::content_commitment},
    {"key encipherment", pki::key_usage::key_encipherment},
    {"key agreement", pki::key_usage::key_agreement},
    {"data encipherment", pki::key_usage::data_encipherment},
    {"cert sign", pki::key_usage::cert_sign},
    {"crl sign", pki::key_usage::crl_sign},
    {"encipher only", pki::key_usage::encipher_only},
    {"decipher only", pki::key_usage::decipher_only},
  };
  static const std::map<std::string, std::string, std::less<>> eku{
    {"any", "2.5.29.37.0"},
    {"server auth", "1.3.6.1.5.5.7.3.1"},
    {"client auth", "1.3.6.1.5.5.7.3.2"},
    {"code signing", "1.3.6.1.5.5.7.3.3"},
    {"email protection", "1.3.6.1.5.5.7.3.4"},
    {"s/mime", "1.3.6.1.5.5.7.3.4"},
    {"ipsec end system", "1.3.6.1.5.5.7.3.5"},
    {"ipsec tunnel", "1.3.6.1.5.5.7.3.6"},
    {"ipsec user", "1.3.6.1.5.5.7.3.7"},
    {"timestamping", "1.3.6.1.5.5.7.3.8"},
    {"ocsp signing", "1.3.6.1.5.5.7.3.9"},
    {"microsoft sgc", "1.3.6.1.4.1.311.10.3.3"},
    {"netscape sgc", "2.16.840.1.113730.4.1"},
  };
  key_usages out;
  if (is_ca)
    out.bits |= pki::key_usage::cert_sign;
  std::vector<std::string> effective = usages;
  if (effective.empty())
    effective = {"digital signature", "key encipherment"};
  std::vector<std::string> unknown;
  for (auto& u : effective) {
    if (auto i = ku.find(u); i != ku.end())
      out.bits |= i->second;
    else if (auto j = eku.find(u); j != eku.end())
      out.extended.push_back(j->second);
    else
      unknown.push_back(u);
  }
  if (!unknown.empty()) {
    std::string text = "unknown key usages: [";
    for (size_t i = 0; i < unknown.size(); ++i)
      text += (i > 0 ? " " : "") + unknown[i];
    return pki::invalid(text + "]");
  }
  return out;
}

caf::expected<pem_chain>
single_chain(const pki::certificate& leaf,
             const std::vector<pki::certificate>& cas) {
  std::vector<pki::certificate> pool;
  for (auto& c : cas)
    if (!(c == leaf)
        && std::none_of(pool.begin(), pool.end(),
                        [&](const pki::certificate& p) { return p == c; }))
      pool.push_back(c);
  std::vector<pki::certificate> chain{leaf};
  // Whether the top of the chain is self-signed (a signature check: once).
  bool top_self_signed = false;
  while (!(top_self_signed = chain.back().is_self_signed())) {
    auto parent
      = std::find_if(pool.begin(), pool.end(), [&](const pki::certificate& p) {
          return chain.back().issued_by(p);
        });
    if (parent == pool.end())
      break;
    chain.push_back(*parent);
    pool.erase(parent);
  }
  if (!pool.empty())
    return pki::invalid("certificate chain is malformed or broken");
  pem_chain out;
  auto n = chain.size();
  if (n > 1 && top_self_signed)
    --n;
  for (size_t i = 0; i < n; ++i)
    out.chain_pem += chain[i].to_pem();
  out.ca_pem = chain.back().to_pem();
  return out;
}

namespace {

sign_outcome failed(std::string message) {
  return sign_outcome{sign_outcome::state::failed, {}, {}, std::move(message)};
}

sign_outcome pending(std::string message) {
  return sign_outcome{sign_outcome::state::pending, {}, {}, std::move(message)};
}

/// Issues as cert-manager's CA issuer does (`pki::issue_from_csr`; the
/// caller has verified the CSR's signature), unless the issuer's test
/// behaviour misissues workload certificates (requests with URI SANs).
caf::expected<pki::certificate> misissue(const pki::csr& request,
                                         const evaluated_issuer& iss,
                                         pki::cert_template tmpl,
                                         const pki::certificate& signer) {
  auto sans = request.sans();
  if (!sans)
    return std::move(sans.error());
  tmpl.subject = request.subject();
  tmpl.sans = std::move(*sans);
  bool workload = !tmpl.sans.uris.empty();
  if (!workload
      || (iss.mode != behaviour::wrong_key
          && iss.mode != behaviour::wrong_identity))
    return pki::issue_for_request(tmpl, request, signer, *iss.ca_key);
  if (iss.mode == behaviour::wrong_identity) {
    tmpl.sans.uris = {std::string{misissued_identity}};
    return pki::issue_for_request(tmpl, request, signer, *iss.ca_key);
  }
  auto other = pki::private_key::generate_ec(256);
  if (!other)
    return std::move(other.error());
  return pki::issue(tmpl, other->public_key(), signer, *iss.ca_key);
}

} // namespace

sign_outcome sign_request(const nlohmann::json& cr, const evaluated_issuer& iss,
                          const secret_lookup& secrets,
                          std::chrono::system_clock::time_point now) {
  kube::certificate_request_view view{cr};
  constexpr std::string_view template_error
    = "Error generating certificate template: ";
  auto pem = view.request();
  if (!pem || pem->empty())
    return failed(std::string{template_error}
                  + "failed to decode csr from spec.request: not base64");
  auto request = pki::csr::from_pem(*pem);
  if (!request)
    return failed(std::string{template_error} + "failed to decode csr: "
                  + istio_csr::errors::message(request.error()));
  if (!request->verify_signature())
    return failed(std::string{template_error}
                  + "CSR signature does not verify");
  auto usages = map_key_usages(view.usages(), view.is_ca());
  if (!usages)
    return failed(std::string{template_error}
                  + istio_csr::errors::message(usages.error()));
  std::chrono::nanoseconds duration = default_duration;
  if (!view.duration().empty()) {
    auto parsed = config::parse_go_duration(view.duration());
    if (!parsed)
      return failed(std::string{template_error}
                    + istio_csr::errors::message(parsed.error()));
    duration = *parsed;
  }
  pki::cert_template tmpl;
  tmpl.not_before = now;
  tmpl.not_after
    = now
      + std::chrono::duration_cast<std::chrono::system_clock::duration>(
        duration);
  tmpl.key_usage = usages->bits;
  tmpl.ext_key_usages = usages->extended;
  tmpl.is_ca = view.is_ca();
  if (iss.type == issuer_type::self_signed) {
    auto name = view.annotation(private_key_secret_annotation);
    if (!name || name->empty())
      return failed("Annotation \"" + std::string{private_key_secret_annotation}
                    + "\" missing or reference empty: secret name missing");
    auto secret = secrets(view.namespace_(), *name);
    if (secret == nullptr)
      return pending("Referenced secret " + view.namespace_() + "/" + *name
                     + " not found: secret \"" + *name + "\" not found");
    auto key_pem = secret_data(*secret, "tls.key");
    auto key = key_pem
                 ? pki::private_key::from_pem(*key_pem)
                 : caf::expected<pki::private_key>{pki::invalid("no tls.key")};
    if (!key)
      return pending("Failed to get key \"" + *name
                     + "\" referenced in annotation \""
                     + std::string{private_key_secret_annotation}
                     + "\": " + istio_csr::errors::message(key.error()));
    if (!(key->public_key() == request->public_key()))
      return failed("CSR not signed by referenced private key");
    auto sans = request->sans();
    if (!sans)
      return failed(std::string{template_error}
                    + istio_csr::errors::message(sans.error()));
    tmpl.subject = request->subject();
    tmpl.sans = std::move(*sans);
    auto cert = pki::self_sign(tmpl, *key);
    if (!cert)
      return failed("Error signing certificate: "
                    + istio_csr::errors::message(cert.error()));
    auto text = cert->to_pem();
    return sign_outcome{sign_outcome::state::issued, text, text, {}};
  }
  if (iss.type != issuer_type::ca || iss.ca_certs.empty() || !iss.ca_key)
    return pending("Referenced issuer does not have a Ready status condition");
  // cert-manager's SignCertificate: never beyond the issuer's notAfter.
  const auto& signer = iss.ca_certs.front();
  tmpl.not_after = std::min(tmpl.not_after, signer.not_after());
  auto cert = misissue(*request, iss, tmpl, signer);
  if (!cert)
    return failed("Error signing certificate: "
                  + istio_csr::errors::message(cert.error()));
  auto chain = single_chain(*cert, iss.ca_certs);
  if (!chain)
    return failed("Error signing certificate: "
                  + istio_csr::errors::message(chain.error()));
  return sign_outcome{sign_outcome::state::issued,
                      std::move(chain->chain_pem),
                      std::move(chain->ca_pem),
                      {}};
}

} // namespace istio_csr::devcluster::issuer
