#include "devcluster/auth.hpp"

#include <algorithm>

#include "devcluster/util.hpp"

namespace istio_csr::devcluster {

namespace {

constexpr std::chrono::seconds leeway{60};

std::optional<nlohmann::json> decode_segment(std::string_view seg) {
  auto raw = base64url_decode(seg);
  if (!raw)
    return std::nullopt;
  auto j = nlohmann::json::parse(*raw, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return std::nullopt;
  return j;
}

std::string quote_list(const std::vector<std::string>& xs) {
  // Go's %q of a []string: ["a" "b"]
  std::string out = "[";
  for (size_t i = 0; i < xs.size(); ++i) {
    if (i > 0)
      out += ' ';
    out += go_quote(xs[i]);
  }
  return out + "]";
}

} // namespace

nlohmann::json user_info::to_json() const {
  auto j = nlohmann::json::object();
  if (!name.empty())
    j["username"] = name;
  if (!uid.empty())
    j["uid"] = uid;
  if (!groups.empty())
    j["groups"] = groups;
  if (!extra.empty())
    j["extra"] = extra;
  return j;
}

token_authority::token_authority(key_pair key, std::string issuer,
                                 std::vector<std::string> api_audiences)
  : issuer_(std::move(issuer)), api_audiences_(std::move(api_audiences)) {
  install(std::move(key));
}

token_authority::token_authority(std::future<key_pair> key, std::string issuer,
                                 std::vector<std::string> api_audiences)
  : pending_(std::move(key)), issuer_(std::move(issuer)),
    api_audiences_(std::move(api_audiences)) {}

void token_authority::install(key_pair key) {
  kid_ = base64url_encode(sha256(key.public_der()));
  key_.emplace(std::move(key));
}

bool token_authority::ready() {
  if (key_)
    return true;
  if (!pending_.valid()
      || pending_.wait_for(std::chrono::seconds(0))
           != std::future_status::ready)
    return false;
  install(pending_.get());
  return true;
}

std::string
token_authority::issue(token_claims& c,
                       std::chrono::system_clock::time_point now) const {
  using namespace std::chrono;
  auto iat = duration_cast<seconds>(now.time_since_epoch()).count();
  c.jti = new_uuid();
  c.expiry = system_clock::time_point{seconds{iat + c.expiration_seconds}};
  nlohmann::json header{{"alg", "RS256"}, {"kid", kid_}};
  nlohmann::json k8s;
  k8s["namespace"] = c.ns;
  k8s["serviceaccount"]
    = {{"name", c.service_account}, {"uid", c.service_account_uid}};
  if (c.pod_name)
    k8s["pod"] = {{"name", *c.pod_name}, {"uid", c.pod_uid}};
  if (!c.node_name.empty()) {
    k8s["node"] = {{"name", c.node_name}};
    if (!c.node_uid.empty())
      k8s["node"]["uid"] = c.node_uid;
  }
  if (c.secret_name)
    k8s["secret"] = {{"name", *c.secret_name}, {"uid", c.secret_uid}};
  nlohmann::json claims;
  claims["aud"] = c.audiences;
  claims["exp"] = iat + c.expiration_seconds;
  claims["iat"] = iat;
  claims["iss"] = issuer_;
  claims["jti"] = c.jti;
  claims["kubernetes.io"] = std::move(k8s);
  claims["nbf"] = iat;
  claims["sub"] = "system:serviceaccount:" + c.ns + ":" + c.service_account;
  auto signing_input
    = base64url_encode(header.dump()) + "." + base64url_encode(claims.dump());
  return signing_input + "."
         + base64url_encode(key_->sign_sha256(signing_input));
}

std::string wrap_token_error(std::string why) {
  return "[invalid bearer token, " + why + "]";
}

bool token_authority::is_own_token(std::string_view token) const {
  auto d1 = token.find('.');
  if (d1 == std::string_view::npos)
    return false;
  auto d2 = token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != token.npos)
    return false;
  auto claims = decode_segment(token.substr(d1 + 1, d2 - d1 - 1));
  return claims && claims->value("iss", "") == issuer_;
}

std::variant<token_authority::verified, std::string>
token_authority::verify(std::string_view token,
                        const std::vector<std::string>& audiences,
                        std::chrono::system_clock::time_point now) const {
  using namespace std::chrono;
  // The texts of kube-apiserver's JWT authenticator, as its union of
  // authenticators reports them; a token that is not a JWT of this issuer
  // gets the bearer-token authenticator's default alone.
  auto wrap = wrap_token_error;
  if (!is_own_token(token))
    return std::string("invalid bearer token");
  auto d1 = token.find('.');
  auto d2 = token.find('.', d1 + 1);
  auto header = decode_segment(token.substr(0, d1));
  auto claims = decode_segment(token.substr(d1 + 1, d2 - d1 - 1));
  auto sig = base64url_decode(token.substr(d2 + 1));
  if (!header || !claims || !sig)
    return wrap("go-jose/go-jose: compact JWS format must have three parts");
  if (header->value("alg", "") != "RS256")
    return wrap("go-jose/go-jose: unexpected signature algorithm");
  if (!key_->verify_sha256(token.substr(0, d2), *sig))
    return wrap("go-jose/go-jose: error in cryptographic primitive");
  auto& c = *claims;
  auto num = [&](const char* key) -> std::optional<int64_t> {
    auto it = c.find(key);
    if (it == c.end() || !it->is_number())
      return std::nullopt;
    return it->get<int64_t>();
  };
  auto now_s = duration_cast<seconds>(now.time_since_epoch()).count();
  auto exp = num("exp");
  if (exp && now_s > *exp + leeway.count())
    return wrap("service account token has expired");
  if (auto nbf = num("nbf"); nbf && now_s + leeway.count() < *nbf)
    return wrap("service account token is not valid yet");
  std::vector<std::string> token_auds;
  if (auto it = c.find("aud"); it != c.end()) {
    if (it->is_string())
      token_auds.push_back(it->get<std::string>());
    else if (it->is_array())
      for (auto& a : *it)
        if (a.is_string())
          token_auds.push_back(a.get<std::string>());
  }
  const auto& wanted = audiences.empty() ? api_audiences_ : audiences;
  std::vector<std::string> matched;
  for (auto& a : wanted)
    if (std::find(token_auds.begin(), token_auds.end(), a) != token_auds.end())
      matched.push_back(a);
  if (matched.empty())
    return wrap("token audiences " + quote_list(token_auds)
                + " is invalid for the target audiences " + quote_list(wanted));
  verified v;
  v.audiences = std::move(matched);
  auto& out = v.claims;
  out.audiences = std::move(token_auds);
  out.jti = c.value("jti", "");
  if (exp)
    out.expiry = system_clock::time_point{seconds{*exp}};
  auto k8s = c.value("kubernetes.io", nlohmann::json::object());
  if (!k8s.is_object())
    return wrap("service account token claims are invalid");
  out.ns = k8s.value("namespace", "");
  auto sa = k8s.value("serviceaccount", nlohmann::json::object());
  out.service_account = sa.value("name", "");
  out.service_account_uid = sa.value("uid", "");
  if (auto it = k8s.find("pod"); it != k8s.end() && it->is_object()) {
    out.pod_name = it->value("name", "");
    out.pod_uid = it->value("uid", "");
  }
  if (auto it = k8s.find("node"); it != k8s.end() && it->is_object()) {
    out.node_name = it->value("name", "");
    out.node_uid = it->value("uid", "");
    out.node_bound = !out.pod_name;
  }
  if (auto it = k8s.find("secret"); it != k8s.end() && it->is_object()) {
    out.secret_name = it->value("name", "");
    out.secret_uid = it->value("uid", "");
  }
  if (out.ns.empty() || out.service_account.empty())
    return wrap("service account token claims are invalid");
  return v;
}

nlohmann::json token_authority::jwks() const {
  auto [n, e] = key_->rsa_public_numbers();
  nlohmann::json key{{"use", "sig"},
                     {"kty", "RSA"},
                     {"kid", kid_},
                     {"alg", "RS256"},
                     {"n", base64url_encode(n)},
                     {"e", base64url_encode(e)}};
  return {{"keys", nlohmann::json::array({key})}};
}

user_info service_account_user(const token_claims& c) {
  user_info u;
  u.name = "system:serviceaccount:" + c.ns + ":" + c.service_account;
  u.uid = c.service_account_uid;
  u.groups = {"system:serviceaccounts", "system:serviceaccounts:" + c.ns,
              "system:authenticated"};
  if (!c.jti.empty())
    u.extra["authentication.kubernetes.io/credential-id"] = {"JTI=" + c.jti};
  if (!c.node_name.empty())
    u.extra["authentication.kubernetes.io/node-name"] = {c.node_name};
  if (!c.node_uid.empty())
    u.extra["authentication.kubernetes.io/node-uid"] = {c.node_uid};
  if (c.pod_name) {
    u.extra["authentication.kubernetes.io/pod-name"] = {*c.pod_name};
    u.extra["authentication.kubernetes.io/pod-uid"] = {c.pod_uid};
  }
  return u;
}

} // namespace istio_csr::devcluster
