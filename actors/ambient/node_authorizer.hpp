#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "actors/ambient/trusted_accounts.hpp"
#include "kube/api/go_quote.hpp"

namespace istio_csr::actors::ambient {

class pod_index;

/// Who asks to impersonate: istio's `security.KubernetesInfo`, from the
/// caller's TokenReview (`authentication.kubernetes.io/pod-name` and
/// `pod-uid` extras of a pod-bound token; empty for client-certificate
/// callers).
struct caller_info {
  std::string pod_name;
  std::string pod_namespace;
  std::string pod_uid;
  std::string pod_service_account;
};

/// `Pod{Name: N, Namespace: NS, UID: U, ServiceAccount: SA}`, as istio's
/// `KubernetesInfo.String()`.
std::string to_string(const caller_info& caller);

/// Go's `%q`, as upstream's texts quote (kube/api/go_quote.hpp).
using kube::go_quote;

/// Ambient node authorization (docs/upstream.md §2.4; istio-csr's and istiod's
/// `authenticateImpersonation`): may `caller` obtain a certificate for
/// `identity`? The checks, in order, with upstream's exact texts:
/// 1. the caller's `namespace/serviceaccount` is trusted:
///    `caller (Pod{...}) is not allowed to impersonate`;
/// 2. `identity` parses as `spiffe://<td>/ns/<ns>/sa/<sa>`:
///    `identity is not a spiffe format`;
/// 3. (ours, upstream skips it) `<td>` is our trust domain:
///    `identity "..." is not in the trust domain "..."`;
/// 4. the caller's pod is cached: `pod NS/NAME not found`;
/// 5. with the token's uid: `pod found, but UID does not match: POD vs TOKEN`;
/// 6. and the caller's service account:
///    `pod found, but ServiceAccount does not match: POD vs TOKEN`;
/// 7. a counted pod of `<ns>/<sa>` runs on the caller pod's node:
///    `no instances of "NS/SA" found on node "NODE"`.
class node_authorizer {
 public:
  /// `trust_domain` as `--trust-domain` (an '@' reads as '.', as in the
  /// identities of authenticated callers).
  node_authorizer(trusted_accounts trusted, std::string trust_domain);

  /// nullopt when allowed, else why not.
  std::optional<std::string> check(const pod_index& pods,
                                   const caller_info& caller,
                                   std::string_view identity) const;

  const trusted_accounts& trusted() const noexcept {
    return trusted_;
  }

  const std::string& trust_domain() const noexcept {
    return trust_domain_;
  }

 private:
  trusted_accounts trusted_;
  std::string trust_domain_;
};

} // namespace istio_csr::actors::ambient
