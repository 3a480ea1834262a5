#include "actors/ambient/node_authorizer.hpp"

#include <algorithm>
#include <cstdio>

#include "actors/ambient/pod_index.hpp"
#include "actors/signing/policy/spiffe.hpp"
#include "pki/error.hpp"

namespace istio_csr::actors::ambient {

std::string to_string(const caller_info& caller) {
  return "Pod{Name: " + caller.pod_name + ", Namespace: " + caller.pod_namespace
         + ", UID: " + caller.pod_uid
         + ", ServiceAccount: " + caller.pod_service_account + "}";
}

std::string go_quote(std::string_view s) {
  // strconv.Quote for the ASCII range; other bytes are copied (names and
  // node names are ASCII in practice, and logs take UTF-8 as is).
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\a': out += "\\a"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\v': out += "\\v"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[5];
          std::snprintf(buf, sizeof(buf), "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
  return out;
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
  auto id = signing::policy::parse_spiffe_identity(identity);
  if (!id)
    return pki::error_text(id.error());
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
