#include "csrctl/kube_access.hpp"

#include <future>

#include <nlohmann/json.hpp>

#include "errors/describe.hpp"
#include "kube/api/base64.hpp"
#include "kube/api/errc.hpp"
#include "kube/api/validation.hpp"
#include "kube/client/client.hpp"
#include "kube/client/config.hpp"

namespace istio_csr::csrctl {

namespace {

using nlohmann::json;

caf::error failure(std::string text) {
  return kube::make_error(kube::errc::config_error, std::move(text));
}

std::string describe(const caf::error& err) {
  return errors::message(err);
}

} // namespace

struct kube_access::impl {
  std::shared_ptr<kube::client> client;

  caf::expected<json> call(kube::request req) {
    std::vector<kube::request> one;
    one.push_back(std::move(req));
    return std::move(call_all(std::move(one)).front());
  }

  /// Runs `reqs`, at most `window` at a time; the results in their order.
  std::vector<caf::expected<json>> call_all(std::vector<kube::request> reqs) {
    constexpr size_t window = 32;
    std::vector<caf::expected<json>> out;
    out.reserve(reqs.size());
    for (size_t first = 0; first < reqs.size(); first += window) {
      auto last = std::min(reqs.size(), first + window);
      std::vector<std::future<caf::expected<json>>> waits;
      for (size_t i = first; i < last; ++i) {
        auto done = std::make_shared<std::promise<caf::expected<json>>>();
        waits.push_back(done->get_future());
        client->execute(std::move(reqs[i]), [done](caf::expected<json> res) {
          done->set_value(std::move(res));
        });
      }
      for (auto& w : waits)
        out.push_back(w.get());
    }
    return out;
  }
};

kube_access::kube_access(std::unique_ptr<impl> ptr) : impl_(std::move(ptr)) {}

kube_access::~kube_access() = default;

caf::expected<std::unique_ptr<kube_access>>
kube_access::make(const std::string& kubeconfig) {
  config::kube_client_flags flags;
  flags.kubeconfig = kubeconfig;
  auto cfg = kube::load_config(flags);
  if (!cfg)
    return cfg.error();
  kube::client_options opts;
  opts.user_agent = "csrctl";
  // A CLI should fail fast rather than retry for a minute.
  opts.connect_timeout = std::chrono::seconds{10};
  cfg->request_timeout = std::chrono::seconds{30};
  auto cl = kube::client::make(std::move(*cfg), std::move(opts));
  if (!cl)
    return cl.error();
  auto ptr = std::make_unique<impl>();
  ptr->client = std::move(*cl);
  return std::unique_ptr<kube_access>{new kube_access(std::move(ptr))};
}

namespace {

json token_request(const std::string& audience, std::chrono::seconds expiration,
                   const std::string& bound_pod) {
  json body{{"apiVersion", "authentication.k8s.io/v1"},
            {"kind", "TokenRequest"},
            {"spec",
             {{"audiences", json::array({audience})},
              {"expirationSeconds", expiration.count()}}}};
  if (!bound_pod.empty())
    body["spec"]["boundObjectRef"]
      = {{"apiVersion", "v1"}, {"kind", "Pod"}, {"name", bound_pod}};
  return body;
}

caf::expected<std::string> token_of(const caf::expected<json>& res,
                                    const std::string& namespace_,
                                    const std::string& service_account) {
  if (!res)
    return failure("TokenRequest for " + namespace_ + "/" + service_account
                   + " failed: " + describe(res.error()));
  auto status = res->value("status", json::object());
  auto token = status.value("token", std::string{});
  if (token.empty())
    return failure("TokenRequest for " + namespace_ + "/" + service_account
                   + " returned no token");
  return token;
}

} // namespace

caf::expected<std::string> kube_access::mint_token(
  const std::string& namespace_, const std::string& service_account,
  const std::string& audience, std::chrono::seconds expiration,
  const std::string& bound_pod) {
  auto res = impl_->call(kube::request::create_subresource(
    kube::resources::serviceaccounts, namespace_, service_account, "token",
    token_request(audience, expiration, bound_pod)));
  return token_of(res, namespace_, service_account);
}

caf::error
kube_access::ensure_service_accounts(const std::string& namespace_,
                                     const std::vector<std::string>& names) {
  std::vector<kube::request> reqs;
  for (const auto& name : names)
    reqs.push_back(kube::request::create(
      kube::resources::serviceaccounts, namespace_,
      json{{"apiVersion", "v1"},
           {"kind", "ServiceAccount"},
           {"metadata", {{"name", name}, {"namespace", namespace_}}}}));
  auto results = impl_->call_all(std::move(reqs));
  for (size_t i = 0; i < results.size(); ++i)
    if (!results[i]
        && !kube::is(results[i].error(), kube::errc::already_exists))
      return failure("creating ServiceAccount " + namespace_ + "/" + names[i]
                     + " failed: " + describe(results[i].error()));
  return {};
}

caf::expected<std::vector<std::string>> kube_access::mint_tokens(
  const std::string& namespace_, const std::vector<std::string>& names,
  const std::string& audience, std::chrono::seconds expiration) {
  std::vector<kube::request> reqs;
  for (const auto& name : names)
    reqs.push_back(kube::request::create_subresource(
      kube::resources::serviceaccounts, namespace_, name, "token",
      token_request(audience, expiration, {})));
  auto results = impl_->call_all(std::move(reqs));
  std::vector<std::string> tokens;
  tokens.reserve(results.size());
  for (size_t i = 0; i < results.size(); ++i) {
    auto token = token_of(results[i], namespace_, names[i]);
    if (!token)
      return token.error();
    tokens.push_back(std::move(*token));
  }
  return tokens;
}

caf::expected<trust_bundle> kube_access::mesh_root(
  const std::string& namespace_, const std::string& issuer_kind,
  const std::string& issuer_name, const std::string& issuer_namespace) {
  auto cm = impl_->call(kube::request::get(kube::resources::configmaps,
                                           namespace_, "istio-ca-root-cert"));
  if (cm) {
    auto data = cm->value("data", json::object());
    auto pem = data.value("root-cert.pem", std::string{});
    if (pem.empty())
      return failure("ConfigMap " + namespace_
                     + "/istio-ca-root-cert has no root-cert.pem");
    return trust_bundle{pem, "ConfigMap " + namespace_ + "/istio-ca-root-cert"};
  }
  if (!kube::is(cm.error(), kube::errc::not_found))
    return failure("reading ConfigMap " + namespace_
                   + "/istio-ca-root-cert: " + describe(cm.error()));
  // Not distributed yet: take the root of the issuer the agent uses.
  bool cluster_scoped = issuer_kind == "ClusterIssuer";
  if (!cluster_scoped && issuer_kind != "Issuer")
    return failure("ConfigMap " + namespace_
                   + "/istio-ca-root-cert does not exist and the root of a "
                   + issuer_kind + " is unknown: pass --root-ca");
  // cert-manager's default --cluster-resource-namespace.
  auto secret_ns
    = cluster_scoped ? std::string{"cert-manager"} : issuer_namespace;
  auto issuer
    = cluster_scoped
        ? impl_->call(
          kube::request::get(kube::resources::clusterissuers, {}, issuer_name))
        : impl_->call(kube::request::get(kube::resources::issuers,
                                         issuer_namespace, issuer_name));
  auto issuer_text
    = issuer_kind + " "
      + (cluster_scoped ? issuer_name : issuer_namespace + "/" + issuer_name);
  if (!issuer)
    return failure("ConfigMap " + namespace_
                   + "/istio-ca-root-cert does not exist and reading "
                   + issuer_text + " failed: " + describe(issuer.error())
                   + " (pass --root-ca)");
  auto secret_name = issuer->value("spec", json::object())
                       .value("ca", json::object())
                       .value("secretName", std::string{});
  if (secret_name.empty())
    return failure(issuer_text + " is not a CA issuer: pass --root-ca");
  auto secret = impl_->call(
    kube::request::get(kube::resources::secrets, secret_ns, secret_name));
  if (!secret)
    return failure("reading Secret " + secret_ns + "/" + secret_name + " of "
                   + issuer_text + ": " + describe(secret.error()));
  auto data = secret->value("data", json::object());
  for (const auto* key : {"ca.crt", "tls.crt"}) {
    auto encoded = data.value(key, std::string{});
    if (encoded.empty())
      continue;
    auto pem = kube::base64_decode(encoded);
    if (!pem)
      return failure("Secret " + secret_ns + "/" + secret_name + ": " + key
                     + " is not base64");
    return trust_bundle{std::move(*pem), issuer_text + " (Secret " + secret_ns
                                           + "/" + secret_name + ", " + key
                                           + ")"};
  }
  return failure("Secret " + secret_ns + "/" + secret_name
                 + " has neither ca.crt nor tls.crt");
}

} // namespace istio_csr::csrctl
