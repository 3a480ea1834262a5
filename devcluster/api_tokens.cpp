// TokenRequest (serviceaccounts/token), TokenReview and the liveness checks
// of service-account tokens.

#include <algorithm>

#include "devcluster/api_impl.hpp"
#include "devcluster/util.hpp"

namespace istio_csr::devcluster {

namespace {

using json = nlohmann::json;
using clock = std::chrono::system_clock;

constexpr int64_t min_expiration_seconds = 600;
constexpr int64_t max_expiration_seconds = int64_t{1} << 32;

std::optional<json> parse_body(const http_request& req, api_error& err) {
  auto decoded = decode_body(req);
  if (auto* e = std::get_if<api_error>(&decoded)) {
    err = *e;
    return std::nullopt;
  }
  return std::get<json>(std::move(decoded));
}

std::optional<api_error> check_type(const json& body, const std::string& kind) {
  auto av = body.value("apiVersion", json(""));
  auto k = body.value("kind", json(""));
  if (av.is_string() && !av.get<std::string>().empty()
      && av != "authentication.k8s.io/v1")
    return errors::bad_request("the API version in the data ("
                               + av.get<std::string>()
                               + ") does not match the expected API version "
                                 "(authentication.k8s.io/v1)");
  if (k.is_string() && !k.get<std::string>().empty() && k != kind)
    return errors::bad_request(k.get<std::string>()
                               + " in version \"v1\" cannot be handled as a "
                               + kind);
  return std::nullopt;
}

std::vector<std::string> string_list(const json& j) {
  std::vector<std::string> out;
  if (j.is_array())
    for (auto& x : j)
      if (x.is_string())
        out.push_back(x.get<std::string>());
  return out;
}

api_error invalid_token_request(const std::string& name,
                                const std::string& field, int64_t value,
                                const std::string& detail) {
  auto message = "Invalid value: " + std::to_string(value) + ": " + detail;
  auto d = errors::details("authentication.k8s.io", "TokenRequest", name);
  d["causes"] = json::array({{{"reason", "FieldValueInvalid"},
                              {"message", message},
                              {"field", field}}});
  return errors::make(422, "Invalid",
                      "TokenRequest.authentication.k8s.io " + go_quote(name)
                        + " is invalid: " + field + ": " + message,
                      std::move(d));
}

} // namespace

api_result api_impl::token_request(request_ctx& ctx) {
  api_error err;
  auto body = parse_body(*ctx.req, err);
  if (!body)
    return {err.to_response(), nullptr};
  if (auto e = check_type(*body, "TokenRequest"))
    return {e->to_response(), nullptr};
  auto& sa_type = registry.core("serviceaccounts");
  auto sa = store.get(sa_type, ctx.ns, ctx.name);
  if (!sa)
    return {errors::not_found(sa_type, ctx.name).to_response(), nullptr};
  auto spec = body->value("spec", json::object());
  if (!spec.is_object())
    spec = json::object();
  token_claims c;
  c.ns = ctx.ns;
  c.service_account = ctx.name;
  c.service_account_uid = sa->body["metadata"].value("uid", "");
  c.audiences = string_list(spec.value("audiences", json()));
  if (c.audiences.empty())
    c.audiences = tokens.api_audiences();
  if (auto it = spec.find("expirationSeconds");
      it != spec.end() && !it->is_null()) {
    if (!it->is_number_integer())
      return {errors::bad_request("spec.expirationSeconds must be an integer")
                .to_response(),
              nullptr};
    c.expiration_seconds = it->get<int64_t>();
  }
  if (c.expiration_seconds < min_expiration_seconds)
    return {invalid_token_request(ctx.name, "spec.expirationSeconds",
                                  c.expiration_seconds,
                                  "may not specify a duration less than 10 "
                                  "minutes")
              .to_response(),
            nullptr};
  if (c.expiration_seconds > max_expiration_seconds)
    return {invalid_token_request(ctx.name, "spec.expirationSeconds",
                                  c.expiration_seconds,
                                  "may not specify a duration larger than "
                                  "2^32 seconds")
              .to_response(),
            nullptr};
  json bound_ref;
  if (auto it = spec.find("boundObjectRef");
      it != spec.end() && it->is_object()) {
    auto kind = it->value("kind", "");
    auto api_version = it->value("apiVersion", "v1");
    auto name = it->value("name", "");
    auto uid = it->value("uid", "");
    std::string actual_uid;
    if (kind == "Pod" && (api_version == "v1" || api_version.empty())) {
      auto pod = store.get(registry.core("pods"), ctx.ns, name);
      if (!pod)
        return {errors::not_found("", "pods", name).to_response(), nullptr};
      auto pspec = pod->body.value("spec", json::object());
      if (pspec.value("serviceAccountName", "") != ctx.name)
        return {errors::bad_request("cannot bind token for serviceaccount "
                                    + go_quote(ctx.name)
                                    + " to pod running with different "
                                      "serviceaccount name.")
                  .to_response(),
                nullptr};
      actual_uid = pod->body["metadata"].value("uid", "");
      c.pod_name = name;
      c.pod_uid = actual_uid;
      c.node_name = pspec.value("nodeName", "");
      if (!c.node_name.empty())
        if (auto node = store.get(registry.core("nodes"), "", c.node_name))
          c.node_uid = node->body["metadata"].value("uid", "");
    } else if (kind == "Secret"
               && (api_version == "v1" || api_version.empty())) {
      auto secret = store.get(registry.core("secrets"), ctx.ns, name);
      if (!secret)
        return {errors::not_found("", "secrets", name).to_response(), nullptr};
      actual_uid = secret->body["metadata"].value("uid", "");
      c.secret_name = name;
      c.secret_uid = actual_uid;
    } else if (kind == "Node" && (api_version == "v1" || api_version.empty())) {
      auto node = store.get(registry.core("nodes"), "", name);
      if (!node)
        return {errors::not_found("", "nodes", name).to_response(), nullptr};
      actual_uid = node->body["metadata"].value("uid", "");
      c.node_name = name;
      c.node_uid = actual_uid;
      c.node_bound = true;
    } else {
      return {errors::bad_request("cannot bind token for serviceaccount "
                                  + go_quote(ctx.name) + " to object of kind "
                                  + go_quote(kind))
                .to_response(),
              nullptr};
    }
    if (!uid.empty() && uid != actual_uid)
      return {errors::conflict("", kind, name,
                               "the UID in the bound object reference (" + uid
                                 + ") does not match the UID in record. The "
                                   "object might have been deleted and then "
                                   "recreated")
                .to_response(),
              nullptr};
    bound_ref = {{"kind", kind},
                 {"apiVersion", api_version.empty() ? "v1" : api_version},
                 {"name", name},
                 {"uid", actual_uid}};
  }
  auto now = clock::now();
  auto token = tokens.issue(c, now);
  json out_spec{{"audiences", c.audiences},
                {"expirationSeconds", c.expiration_seconds}};
  out_spec["boundObjectRef"] = bound_ref;
  json out{
    {"kind", "TokenRequest"},
    {"apiVersion", "authentication.k8s.io/v1"},
    {"metadata",
     {{"name", ctx.name},
      {"namespace", ctx.ns},
      {"creationTimestamp", format_time(now)}}},
    {"spec", out_spec},
    {"status",
     {{"token", token}, {"expirationTimestamp", format_time(c.expiry)}}}};
  return {json_response(201, out), nullptr};
}

std::optional<std::string>
api_impl::check_token_objects(const token_claims& c) {
  // kube-apiserver's checks, in its order and with its texts: an object
  // counts as deleted once its deletionTimestamp (for a graceful delete the
  // end of the grace period) is more than the JWT leeway (60 s) old.
  const std::string invalidated = "service account token has been invalidated";
  auto now = clock::now();
  auto deleted = [&](const json& obj) {
    auto ts = obj["metadata"].value("deletionTimestamp", "");
    if (ts.empty())
      return false;
    auto when = parse_time(ts);
    return when && *when < now - std::chrono::seconds(60);
  };
  auto sa
    = store.get(registry.core("serviceaccounts"), c.ns, c.service_account);
  if (!sa)
    return "serviceaccounts " + go_quote(c.service_account) + " not found";
  auto sa_uid = sa->body["metadata"].value("uid", "");
  if (sa_uid != c.service_account_uid)
    return "service account UID (" + sa_uid + ") does not match claim ("
           + c.service_account_uid + ")";
  if (deleted(sa->body))
    return "service account " + c.ns + "/" + c.service_account
           + " has been deleted";
  if (c.secret_name) {
    auto secret = store.get(registry.core("secrets"), c.ns, *c.secret_name);
    if (!secret)
      return invalidated;
    auto uid = secret->body["metadata"].value("uid", "");
    if (uid != c.secret_uid)
      return "secret UID (" + uid
             + ") does not match service account secret ref claim ("
             + c.secret_uid + ")";
    if (deleted(secret->body))
      return invalidated;
  }
  if (c.pod_name) {
    auto pod = store.get(registry.core("pods"), c.ns, *c.pod_name);
    if (!pod)
      return invalidated;
    auto uid = pod->body["metadata"].value("uid", "");
    if (uid != c.pod_uid)
      return "pod UID (" + uid
             + ") does not match service account pod ref claim (" + c.pod_uid
             + ")";
    if (deleted(pod->body))
      return invalidated;
  } else if (c.node_bound) {
    auto node = store.get(registry.core("nodes"), "", c.node_name);
    if (!node)
      return invalidated;
    auto uid = node->body["metadata"].value("uid", "");
    if (uid != c.node_uid)
      return "node UID (" + uid
             + ") does not match service account node ref claim (" + c.node_uid
             + ")";
    if (deleted(node->body))
      return invalidated;
  }
  return std::nullopt;
}

api_result api_impl::token_review(request_ctx& ctx) {
  api_error err;
  auto body = parse_body(*ctx.req, err);
  if (!body)
    return {err.to_response(), nullptr};
  if (auto e = check_type(*body, "TokenReview"))
    return {e->to_response(), nullptr};
  auto spec = body->value("spec", json::object());
  if (!spec.is_object())
    spec = json::object();
  auto token = spec.value("token", json(""));
  if (!token.is_string() || token.get<std::string>().empty())
    return {errors::bad_request("token is required for TokenReview in "
                                "authentication")
              .to_response(),
            nullptr};
  auto audiences = string_list(spec.value("audiences", json()));
  json status = json::object();
  auto fail = [&](const std::string& why) {
    status["user"] = json::object();
    status["error"] = why;
  };
  auto text = token.get<std::string>();
  if (!cfg.admin_token.empty() && text == cfg.admin_token) {
    // A static token: valid for the API server's own audiences.
    const auto& api_auds = tokens.api_audiences();
    std::vector<std::string> matched;
    if (audiences.empty())
      matched = api_auds;
    for (auto& a : audiences)
      if (std::find(api_auds.begin(), api_auds.end(), a) != api_auds.end())
        matched.push_back(a);
    if (matched.empty()) {
      fail("token audiences is invalid for the target audiences");
    } else {
      status["authenticated"] = true;
      status["user"] = admin.to_json();
      status["audiences"] = matched;
    }
  } else {
    auto result = tokens.verify(text, audiences, clock::now());
    if (auto* why = std::get_if<std::string>(&result)) {
      fail(*why);
    } else {
      auto& v = std::get<token_authority::verified>(result);
      if (auto why = check_token_objects(v.claims)) {
        fail(wrap_token_error(*why));
      } else {
        status["authenticated"] = true;
        status["user"] = service_account_user(v.claims).to_json();
        status["audiences"] = v.audiences;
      }
    }
  }
  json out{{"kind", "TokenReview"},
           {"apiVersion", "authentication.k8s.io/v1"},
           {"metadata", {{"creationTimestamp", nullptr}}},
           {"spec", spec},
           {"status", status}};
  return {json_response(201, out), nullptr};
}

api_result api_impl::self_review(request_ctx& ctx) {
  auto decoded = decode_body(*ctx.req);
  if (auto* e = std::get_if<api_error>(&decoded))
    return {e->to_response(), nullptr};
  auto& body = std::get<json>(decoded);
  auto& t = *ctx.type;
  json out{{"kind", t.kind},
           {"apiVersion", t.api_version()},
           {"metadata", {{"creationTimestamp", nullptr}}}};
  if (t.resource == "selfsubjectreviews") {
    out["status"] = {{"userInfo", ctx.user.to_json()}};
  } else {
    out["spec"] = body.value("spec", json::object());
    out["status"] = {{"allowed", true},
                     {"reason", "devcluster authorizes every authenticated "
                                "user"}};
  }
  return {json_response(201, out), nullptr};
}

} // namespace istio_csr::devcluster
