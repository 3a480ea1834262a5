#include "actors/signing/policy/kube_jwt.hpp"

#include <algorithm>

#include "caf/sec.hpp"

#include "errors/describe.hpp"
#include "kube/api/token_review.hpp"
#include "signing_api/spiffe.hpp"

namespace istio_csr::actors::signing::policy {

namespace {

caf::error refusal(std::string text) {
  return caf::make_error(caf::sec::invalid_argument, std::move(text));
}

} // namespace

caf::expected<std::string_view>
kube_jwt_token(const signing_api::caller_info& caller,
               std::string_view cluster_id) {
  const auto& cluster_ids = caller.cluster_ids;
  auto cluster = cluster_ids.size() == 1 ? cluster_ids.front() : std::string{};
  if (!cluster.empty() && cluster != cluster_id)
    return refusal("client claims to be in cluster \"" + cluster
                   + "\", but we only know about local cluster \""
                   + std::string{cluster_id} + "\"");
  if (!caller.bearer_token)
    return refusal(caller.has_authorization
                     ? "no bearer token exists in HTTP authorization header"
                     : "no HTTP authorization header exists");
  const auto& token = *caller.bearer_token;
  if (!std::all_of(token.begin(), token.end(),
                   [](char c) { return c > ' ' && c < '\x7f'; }))
    return refusal("the bearer token is not printable ASCII");
  return std::string_view{token};
}

caf::expected<caller_identity> review_identity(std::string_view trust_domain,
                                               const nlohmann::json& review) {
  kube::token_review_view view{review};
  if (!view.error().empty())
    return refusal("the service account authentication returns an error: "
                   + view.error());
  if (!view.authenticated())
    return refusal("the token is not authenticated");
  auto groups = view.groups();
  if (std::find(groups.begin(), groups.end(), "system:serviceaccounts")
      == groups.end())
    return refusal("the token is not a service account");
  const auto& user = view.username();
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    auto colon = user.find(':', start);
    parts.push_back(user.substr(start, colon - start));
    if (colon == std::string::npos)
      break;
    start = colon + 1;
  }
  if (parts.size() != 4 || parts[0] != "system" || parts[1] != "serviceaccount")
    return refusal("invalid username field in the token review result");
  caller_identity who;
  who.ns = parts[2];
  who.service_account = parts[3];
  auto id = signing_api::format_spiffe_identity(trust_domain, who.ns,
                                                who.service_account);
  if (!id)
    return refusal(errors::message(id.error()));
  who.identities.push_back(std::move(*id));
  who.pod_name = view.extra_value("authentication.kubernetes.io/pod-name");
  who.pod_uid = view.extra_value("authentication.kubernetes.io/pod-uid");
  return who;
}

} // namespace istio_csr::actors::signing::policy
