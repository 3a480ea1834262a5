#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "caf/expected.hpp"

#include "signing_api/sign_request.hpp"

namespace istio_csr::actors::signing::policy {

/// Who the caller is, once authenticated.
struct caller_identity {
  std::vector<std::string> identities;
  /// From the TokenReview (empty for client-certificate callers), for
  /// Ambient node authorization.
  std::string ns;
  std::string service_account;
  std::string pod_name;
  std::string pod_uid;
};

/// istio's Kube JWT authenticator before it asks the API server, in its
/// order: exactly one `clusterid` value counts (none or several read as
/// none) and, when set, must be `cluster_id`; a bearer token must be there;
/// and (ours) it must be printable ASCII, as every JWT is: anything else
/// could only fail the TokenReview, or not encode as JSON. The token, or
/// `sec::invalid_argument` with upstream's text for the log.
caf::expected<std::string_view>
kube_jwt_token(const signing_api::caller_info& caller,
               std::string_view cluster_id);

/// Checks a TokenReview answer as istio's Kube JWT authenticator does: no
/// `status.error`, authenticated, in the group `system:serviceaccounts`, a
/// username `system:serviceaccount:<ns>:<sa>`; the identity is
/// `format_spiffe_identity(trust_domain, ns, sa)`, the pod name and uid come
/// from the `extra` of a pod-bound token. Errors are `sec::invalid_argument`
/// with upstream's text.
caf::expected<caller_identity> review_identity(std::string_view trust_domain,
                                               const nlohmann::json& review);

} // namespace istio_csr::actors::signing::policy
