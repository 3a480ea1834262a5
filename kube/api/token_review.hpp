#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "kube/api/object.hpp"

namespace istio_csr::kube {

/// A `authentication.k8s.io/v1 TokenReview` request for `token`, with the
/// audiences to check (empty: the API server's own audience).
nlohmann::json make_token_review(std::string_view token,
                                 const std::vector<std::string>& audiences);

/// Read-only view of a TokenReview answer (its `status`).
class token_review_view : public object_ref {
 public:
  using object_ref::object_ref;

  /// `status.authenticated`; absent (as for a rejected token) reads false.
  bool authenticated() const;

  /// `status.error`, e.g. why a token was rejected.
  const std::string& error() const {
    return string_at(json(), {"status", "error"});
  }

  /// `status.user.username`, e.g. `system:serviceaccount:NS:SA`.
  const std::string& username() const {
    return string_at(json(), {"status", "user", "username"});
  }

  /// `status.user.uid` (the ServiceAccount's uid for SA tokens).
  const std::string& uid() const {
    return string_at(json(), {"status", "user", "uid"});
  }

  std::vector<std::string> groups() const;

  /// `status.user.extra`, e.g. `authentication.kubernetes.io/pod-name`.
  std::map<std::string, std::vector<std::string>> extra() const;

  /// The first value of one `extra` key, empty when absent.
  std::string extra_value(std::string_view key) const;

  /// `status.audiences`: the audiences the token was valid for.
  std::vector<std::string> audiences() const;
};

} // namespace istio_csr::kube
