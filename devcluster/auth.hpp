#pragma once

#include <chrono>
#include <future>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "devcluster/crypto.hpp"

namespace istio_csr::devcluster {

/// Who sent a request.
struct user_info {
  std::string name;
  std::string uid;
  std::vector<std::string> groups;
  std::map<std::string, std::vector<std::string>> extra;
  bool admin = false;
  bool anonymous = false;

  /// `authentication.k8s.io/v1` UserInfo.
  nlohmann::json to_json() const;
};

/// The claims of a service-account token.
struct token_claims {
  std::string ns;
  std::string service_account;
  std::string service_account_uid;
  std::vector<std::string> audiences;
  int64_t expiration_seconds = 3600;
  /// Bound pod, if any.
  std::optional<std::string> pod_name;
  std::string pod_uid;
  /// Node of the bound pod (`spec.nodeName`, if scheduled), or the bound
  /// node; its uid only when that Node object existed at issue time.
  std::string node_name;
  std::string node_uid;
  /// Bound to a Node object (not a pod).
  bool node_bound = false;
  /// Bound secret, if any.
  std::optional<std::string> secret_name;
  std::string secret_uid;
  // Filled in by `verify`:
  std::string jti;
  std::chrono::system_clock::time_point expiry;
};

/// A service-account token's validation error `why` as kube-apiserver's
/// union of authenticators reports it (TokenReview `status.error`):
/// `[invalid bearer token, why]`.
std::string wrap_token_error(std::string why);

/// Mints and verifies RS256 service-account JWTs as kube-apiserver does.
class token_authority {
 public:
  token_authority(key_pair key, std::string issuer,
                  std::vector<std::string> api_audiences);

  /// With a key still being generated (RSA generation takes up to a second
  /// on a busy machine; start-up does not wait for it): see `ready()`.
  token_authority(std::future<key_pair> key, std::string issuer,
                  std::vector<std::string> api_audiences);

  /// Whether the signing key is there; every other member needs it. Polls
  /// the pending key without blocking.
  bool ready();

  /// A signed JWT for `c`; returns the token and sets `c.jti`/`c.expiry`.
  std::string issue(token_claims& c,
                    std::chrono::system_clock::time_point now) const;

  /// Checks signature, issuer, expiry (with kube-apiserver's one-minute
  /// leeway) and that the token's audiences intersect `audiences` (the
  /// server's own when empty). On success, returns the claims and the
  /// matching audiences; on failure, the error text a real server reports.
  struct verified {
    token_claims claims;
    std::vector<std::string> audiences;
  };
  std::variant<verified, std::string>
  verify(std::string_view token, const std::vector<std::string>& audiences,
         std::chrono::system_clock::time_point now) const;

  /// Whether `token` looks like a JWT from this issuer (otherwise it is
  /// not ours to judge).
  bool is_own_token(std::string_view token) const;

  const std::string& issuer() const noexcept {
    return issuer_;
  }

  const std::vector<std::string>& api_audiences() const noexcept {
    return api_audiences_;
  }

  const std::string& key_id() const noexcept {
    return kid_;
  }

  /// The JSON Web Key Set of the signing key (`/openid/v1/jwks`).
  nlohmann::json jwks() const;

 private:
  void install(key_pair key);

  std::optional<key_pair> key_;
  std::future<key_pair> pending_;
  std::string issuer_;
  std::vector<std::string> api_audiences_;
  std::string kid_;
};

/// The user a verified service-account token stands for (TokenReview and
/// request authentication).
user_info service_account_user(const token_claims& c);

} // namespace istio_csr::devcluster
