#include "devcluster/issuer/issuers.hpp"

#include "config/go_duration.hpp"
#include "devcluster/issuer/status.hpp"
#include "errors/describe.hpp"
#include "kube/api/object.hpp"
#include "pki/error.hpp"
#include "pki/pem.hpp"

namespace istio_csr::devcluster::issuer {

std::string to_string(behaviour b) {
  switch (b) {
    case behaviour::normal: return "normal";
    case behaviour::deny: return "deny";
    case behaviour::fail: return "fail";
    case behaviour::never: return "never";
    case behaviour::delay: return "delay";
    case behaviour::empty_ca: return "empty-ca";
    case behaviour::wrong_key: return "wrong-key";
    case behaviour::wrong_identity: return "wrong-identity";
  }
  return "normal";
}

namespace {

behaviour parse_behaviour(const std::string& text) {
  for (auto b :
       {behaviour::deny, behaviour::fail, behaviour::never, behaviour::delay,
        behaviour::empty_ca, behaviour::wrong_key, behaviour::wrong_identity})
    if (text == to_string(b))
      return b;
  return behaviour::normal;
}

constexpr std::string_view get_key_pair
  = "Error getting keypair for CA issuer: ";

void not_ready(evaluated_issuer& out, std::string reason, std::string message) {
  out.ready = false;
  out.reason = std::move(reason);
  out.message = std::move(message);
}

} // namespace

std::pair<std::string, std::string> ca_secret_of(const nlohmann::json& issuer,
                                                 bool cluster_scoped) {
  const auto& name = kube::string_at(issuer, {"spec", "ca", "secretName"});
  std::string ns = cluster_scoped ? std::string{cluster_resource_namespace}
                                  : kube::object_ref{issuer}.namespace_();
  return {std::move(ns), name};
}

evaluated_issuer evaluate_issuer(const nlohmann::json& issuer,
                                 bool cluster_scoped,
                                 const secret_lookup& secrets) {
  evaluated_issuer out;
  kube::object_ref ref{issuer};
  if (auto b = ref.annotation(behaviour_annotation))
    out.mode = parse_behaviour(*b);
  if (auto d = ref.annotation(delay_annotation)) {
    if (auto parsed = config::parse_go_duration(*d);
        parsed && parsed->count() >= 0)
      out.delay
        = std::chrono::duration_cast<std::chrono::milliseconds>(*parsed);
  }
  auto* spec = kube::member_at(issuer, {"spec"});
  if (spec != nullptr && spec->is_object() && spec->contains("ca")) {
    out.type = issuer_type::ca;
    std::tie(out.secret_namespace, out.secret_name)
      = ca_secret_of(issuer, cluster_scoped);
    kube::object_ptr secret
      = out.secret_name.empty()
          ? nullptr
          : secrets(out.secret_namespace, out.secret_name);
    if (secret == nullptr) {
      not_ready(out, "ErrGetKeyPair",
                std::string{get_key_pair} + "secret \"" + out.secret_name
                  + "\" not found");
      return out;
    }
    auto crt = secret_data(*secret, "tls.crt");
    auto key = secret_data(*secret, "tls.key");
    if (!crt || crt->empty() || !key || key->empty()) {
      not_ready(out, "ErrGetKeyPair",
                std::string{get_key_pair} + "secret \"" + out.secret_name
                  + "\" has no "
                  + (!crt || crt->empty() ? "tls.crt" : "tls.key"));
      return out;
    }
    auto certs = pki::parse_pem_bundle(*crt, 1 << 20);
    if (!certs) {
      not_ready(out, "ErrGetKeyPair",
                std::string{get_key_pair} + "error decoding x509 certificate: "
                  + istio_csr::errors::message(certs.error()));
      return out;
    }
    auto pkey = pki::private_key::from_pem(*key);
    if (!pkey) {
      not_ready(out, "ErrGetKeyPair",
                std::string{get_key_pair} + "error decoding private key: "
                  + istio_csr::errors::message(pkey.error()));
      return out;
    }
    if (!certs->front().matches(*pkey)) {
      not_ready(out, "ErrInvalidKeyPair",
                std::string{get_key_pair}
                  + "private key does not match certificate");
      return out;
    }
    if (!certs->front().is_ca()) {
      not_ready(out, "ErrInvalidKeyPair",
                std::string{get_key_pair} + "certificate is not a CA");
      return out;
    }
    if (certs->size() == 1) {
      if (auto ca = secret_data(*secret, "ca.crt"); ca && !ca->empty()) {
        auto parsed = pki::certificate::from_pem(*ca);
        if (!parsed) {
          not_ready(out, "ErrGetKeyPair",
                    std::string{get_key_pair} + "error decoding ca.crt: "
                      + istio_csr::errors::message(parsed.error()));
          return out;
        }
        certs->push_back(std::move(*parsed));
      }
    }
    out.ca_certs = std::move(*certs);
    out.ca_key = std::move(*pkey);
    out.ready = true;
    out.reason = "KeyPairVerified";
    out.message = "Signing CA verified";
    return out;
  }
  if (spec != nullptr && spec->is_object() && spec->contains("selfSigned")) {
    out.type = issuer_type::self_signed;
    out.ready = true;
    out.reason = "IsReady";
    out.message = "";
    return out;
  }
  out.type = issuer_type::unsupported;
  not_ready(out, "Unsupported",
            "devcluster supports only CA and selfSigned issuers");
  return out;
}

} // namespace istio_csr::devcluster::issuer
