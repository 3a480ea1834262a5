#include "actors/ambient/node_authorizer.hpp"

#include <algorithm>

#include "actors/ambient/pod_index.hpp"
#include "errors/describe.hpp"
#include "pki/error.hpp"
#include "signing_api/spiffe.hpp"

namespace istio_csr::actors::ambient {

std::string to_string(const caller_info& caller) {
  return "Pod{Name: " + caller.pod_name + ", Namespace: " + caller.pod_namespace
         + ", UID: " + caller.pod_uid
         + ", ServiceAccount: " + caller.pod_service_account + "}";
}

node_authorizer::node_authorizer(trusted_accounts trusted,
                                 std::string trust_domain)
  : trusted_(std::move(trusted)), trust_domain_(std::move(trust_domain)) {
  std::replace(trust_domain_.begin(), trust_domain_.end(), '@', '.');
}

std::optional<std::string>
node_authorizer::check(const pod_index& pods, const caller_info& caller,
                       std::string_view identity) const {
  // 1. The caller may impersonate at all.
  if (!trusted_.contains(caller.pod_namespace, caller.pod_service_account))
    return "caller (" + to_string(caller) + ") is not allowed to impersonate";
  // 2. The requested identity is an istio SPIFFE identity...
  auto id = signing_api::parse_spiffe_identity(identity);
  if (!id)
    return errors::message(id.error());
  // 3. ... of our mesh.
  if (id->trust_domain != trust_domain_)
    return "identity " + go_quote(identity) + " is not in the trust domain "
           + go_quote(trust_domain_);
  // 4.-6. The caller's pod is the one its token was bound to.
  auto pod = pods.find(caller.pod_namespace, caller.pod_name);
  if (!pod)
    return "pod " + caller.pod_namespace + "/" + caller.pod_name + " not found";
  if (pod->uid != caller.pod_uid)
    return "pod found, but UID does not match: " + std::string{pod->uid}
           + " vs " + caller.pod_uid;
  if (pod->service_account != caller.pod_service_account)
    return "pod found, but ServiceAccount does not match: "
           + std::string{pod->service_account} + " vs "
           + caller.pod_service_account;
  // 7. The identity runs on the caller's node.
  if (pods.count_on_node(id->ns, id->service_account, pod->node) == 0)
    return "no instances of " + go_quote(id->ns + "/" + id->service_account)
           + " found on node " + go_quote(pod->node);
  return std::nullopt;
}

} // namespace istio_csr::actors::ambient
