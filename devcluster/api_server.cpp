// Routing, authentication, content negotiation, discovery, the admin
// endpoints and fault injection.

#include "devcluster/api_server.hpp"

#include <algorithm>
#include <stdexcept>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "devcluster/api_impl.hpp"
#include "devcluster/util.hpp"
#include "devcluster/watch.hpp"

namespace istio_csr::devcluster {

namespace {

using json = nlohmann::json;
namespace net = boost::asio;

const std::string aggregated_v2
  = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
const std::string aggregated_v2beta1
  = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as="
    "APIGroupDiscoveryList";

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    auto pos = s.find(sep, start);
    auto part = s.substr(start, pos == s.npos ? s.npos : pos - start);
    out.emplace_back(part);
    if (pos == s.npos)
      break;
    start = pos + 1;
  }
  return out;
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return std::string{s};
}

std::string lower(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// One entry of an Accept header.
struct media_range {
  std::string type; ///< e.g. "application/json"
  std::map<std::string, std::string> params;
};

std::vector<media_range> parse_accept(const std::string& accept) {
  std::vector<media_range> out;
  for (auto& entry : split(accept, ',')) {
    auto parts = split(entry, ';');
    media_range m;
    m.type = lower(trim(parts[0]));
    for (size_t i = 1; i < parts.size(); ++i) {
      auto kv = trim(parts[i]);
      auto eq = kv.find('=');
      if (eq != std::string::npos)
        m.params[lower(trim(kv.substr(0, eq)))] = trim(kv.substr(eq + 1));
    }
    if (!m.type.empty())
      out.push_back(std::move(m));
  }
  return out;
}

bool is_json_type(const std::string& t) {
  return t == "application/json" || t == "*/*" || t == "application/*";
}

/// The representation for an object endpoint, or nullopt (406).
std::optional<media> negotiate(const std::string& accept) {
  if (trim(accept).empty())
    return media::json;
  for (auto& m : parse_accept(accept)) {
    if (!is_json_type(m.type))
      continue;
    auto as = m.params.find("as");
    if (as == m.params.end())
      return media::json;
    auto g = m.params.count("g") ? m.params.at("g") : "";
    auto v = m.params.count("v") ? m.params.at("v") : "";
    if (as->second == "Table" && g == "meta.k8s.io"
        && (v == "v1" || v == "v1beta1"))
      return media::table;
    if ((as->second == "PartialObjectMetadata"
         || as->second == "PartialObjectMetadataList")
        && g == "meta.k8s.io" && (v == "v1" || v == "v1beta1"))
      return media::metadata;
  }
  return std::nullopt;
}

/// The aggregated discovery version asked for, if any ("v2", "v2beta1").
std::string wants_aggregated(const std::string& accept) {
  for (auto& m : parse_accept(accept)) {
    if (!is_json_type(m.type))
      continue;
    auto as = m.params.find("as");
    if (as == m.params.end())
      return "";
    if (as->second == "APIGroupDiscoveryList" && m.params.count("g")
        && m.params.at("g") == "apidiscovery.k8s.io") {
      auto v = m.params.count("v") ? m.params.at("v") : "";
      if (v == "v2" || v == "v2beta1")
        return v;
    }
  }
  return "";
}

bool constant_time_equals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

http_response text_response(unsigned status, std::string body) {
  http_response r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(body);
  return r;
}

api_error fault_error(const fault_injector::decision& d) {
  auto msg = d.message.empty() ? "injected fault" : d.message;
  switch (d.error) {
    case 429: return errors::too_many_requests(d.retry_after_seconds);
    case 503: {
      auto e = errors::make(503, "ServiceUnavailable", msg);
      e.headers.emplace_back("Retry-After",
                             std::to_string(d.retry_after_seconds));
      return e;
    }
    case 504: return errors::timeout(msg, d.retry_after_seconds);
    default: return errors::internal(msg);
  }
}

} // namespace

// --- api_impl
// -----------------------------------------------------------------

api_impl::api_impl(net::io_context& io, api_config config,
                   std::future<key_pair> sa_key)
  : ioc(io), cfg(std::move(config)), store(registry, cfg.history_limit),
    tokens(std::move(sa_key), cfg.issuer,
           cfg.api_audiences.empty() ? std::vector<std::string>{cfg.issuer}
                                     : cfg.api_audiences),
    disco(registry, cfg.server_address) {
  for (auto& t : registry.all())
    tables.emplace_back(t);
  admin.name = "devcluster-admin";
  admin.groups = {"system:masters", "system:authenticated"};
  admin.admin = true;
  for (auto& t : registry.all())
    if (t.stored)
      store.subscribe(t, "", &gc);
}

void api_impl::defer(std::chrono::milliseconds delay, std::function<void()> f) {
  std::weak_ptr<int> w = alive;
  if (delay.count() <= 0) {
    net::post(ioc, [w, f = std::move(f)] {
      if (w.lock())
        f();
    });
    return;
  }
  auto timer = std::make_shared<net::steady_timer>(ioc, delay);
  timer->async_wait(
    [timer, w, f = std::move(f)](const boost::system::error_code& ec) {
      if (!ec && w.lock())
        f();
    });
}

outcome<user_info> api_impl::authenticate(const http_request& req) {
  auto header = trim(req.authorization);
  if (header.empty()) {
    user_info u;
    u.name = "system:anonymous";
    u.groups = {"system:unauthenticated"};
    u.anonymous = true;
    return u;
  }
  if (header.size() < 7 || lower(header.substr(0, 7)) != "bearer ")
    return errors::unauthorized();
  auto token = trim(header.substr(7));
  if (!cfg.admin_token.empty() && constant_time_equals(token, cfg.admin_token))
    return admin;
  auto result = tokens.verify(token, {}, std::chrono::system_clock::now());
  auto* v = std::get_if<token_authority::verified>(&result);
  if (v == nullptr || check_token_objects(v->claims))
    return errors::unauthorized();
  // devcluster authorizes every valid service-account token for everything
  // (no RBAC); see the README of devcluster/.
  return service_account_user(v->claims);
}

bool api_impl::needs_signing_key(const http_request& req) const {
  auto header = trim(req.authorization);
  if (header.size() > 7 && trim(header.substr(7)) != cfg.admin_token)
    return true; // a service-account token to verify
  const auto& p = req.path;
  return p.ends_with("/token") || p.find("/tokenreviews") != std::string::npos
         || p.rfind("/openid/", 0) == 0 || p.rfind("/.well-known/", 0) == 0;
}

void api_impl::handle(http_request req, std::function<void(api_result)> done) {
  if (!tokens.ready() && needs_signing_key(req)) {
    // The key is still being generated (only right after start-up).
    auto shared = std::make_shared<http_request>(std::move(req));
    defer(std::chrono::milliseconds{5},
          [this, shared, done] { handle(*shared, done); });
    return;
  }
  auto auth = authenticate(req);
  if (auto* err = std::get_if<api_error>(&auth)) {
    done({err->to_response(), nullptr});
    return;
  }
  auto user = std::get<user_info>(std::move(auth));
  fault_injector::decision d;
  if (!faults.empty() && !user.anonymous) {
    request_ctx probe;
    probe.req = &req;
    bool is_resource = false;
    if (!parse_resource_path(req, probe, is_resource) && is_resource)
      d = faults.decide(probe.verb, probe.type->resource, probe.sub, probe.ns,
                        user.name);
  }
  if (d.latency.count() > 0) {
    auto shared = std::make_shared<http_request>(std::move(req));
    defer(d.latency, [this, shared, user, d, done] {
      if (d.error != 0)
        done({fault_error(d).to_response(), nullptr});
      else
        done(serve(*shared, user));
    });
    return;
  }
  if (d.error != 0) {
    done({fault_error(d).to_response(), nullptr});
    return;
  }
  done(serve(req, user));
}

std::optional<api_error> api_impl::parse_resource_path(const http_request& req,
                                                       request_ctx& ctx,
                                                       bool& is_resource) {
  is_resource = false;
  auto segs = split(req.path, '/');
  // split("/a/b") = {"", "a", "b"}; drop the leading and a trailing empty.
  if (!segs.empty() && segs.front().empty())
    segs.erase(segs.begin());
  if (!segs.empty() && segs.back().empty())
    segs.pop_back();
  std::string group, version;
  size_t rest;
  if (segs.size() >= 2 && segs[0] == "api") {
    version = segs[1];
    rest = 2;
  } else if (segs.size() >= 3 && segs[0] == "apis") {
    group = segs[1];
    version = segs[2];
    rest = 3;
  } else {
    return std::nullopt;
  }
  if (segs.size() == rest)
    return std::nullopt; // discovery
  is_resource = true;
  std::vector<std::string> r(segs.begin() + static_cast<long>(rest),
                             segs.end());
  const resource_type* t = nullptr;
  if (r[0] == "namespaces" && r.size() >= 3
      && !(r.size() == 3 && (r[2] == "status" || r[2] == "finalize"))) {
    if (r.size() > 5)
      return errors::path_not_found();
    ctx.ns = r[1];
    t = registry.find(group, version, r[2]);
    if (t == nullptr && !group.empty())
      return errors::page_not_found();
    if (t == nullptr || !t->namespaced)
      return errors::path_not_found();
    if (r.size() > 3)
      ctx.name = r[3];
    if (r.size() > 4)
      ctx.sub = r[4];
  } else {
    if (r.size() > 3)
      return errors::path_not_found();
    t = registry.find(group, version, r[0]);
    if (t == nullptr)
      return group.empty() ? errors::path_not_found()
                           : errors::page_not_found();
    if (r.size() > 1)
      ctx.name = r[1];
    if (r.size() > 2)
      ctx.sub = r[2];
    if (t->namespaced && !ctx.name.empty())
      return errors::path_not_found();
  }
  ctx.type = t;
  if (!ctx.sub.empty()
      && std::none_of(t->subresources.begin(), t->subresources.end(),
                      [&](auto& s) { return s.name == ctx.sub; }))
    return errors::path_not_found();
  auto flag = [&](const char* key) {
    auto it = req.query.find(key);
    return it != req.query.end() && (it->second == "1" || it->second == "true");
  };
  const auto& m = req.method;
  if (m == "GET" || m == "HEAD")
    ctx.verb = flag("watch") ? "watch" : ctx.name.empty() ? "list" : "get";
  else if (m == "POST")
    ctx.verb = "create";
  else if (m == "PUT")
    ctx.verb = "update";
  else if (m == "PATCH")
    ctx.verb = "patch";
  else if (m == "DELETE")
    ctx.verb = ctx.name.empty() ? "deletecollection" : "delete";
  else
    return errors::method_not_allowed();
  return std::nullopt;
}

api_result api_impl::serve(const http_request& req, const user_info& user) {
  const auto& path = req.path;
  bool is_get = req.method == "GET" || req.method == "HEAD";
  if (path == "/version" || path == "/version/") {
    if (!is_get)
      return {errors::method_not_allowed().to_response(), nullptr};
    return {json_response(200, discovery::version()), nullptr};
  }
  for (auto* health : {"/healthz", "/livez", "/readyz"})
    if (path == health || path.rfind(std::string(health) + "/", 0) == 0)
      return {text_response(200, "ok"), nullptr};
  if (user.anonymous) {
    request_ctx ctx;
    ctx.req = &req;
    bool is_resource = false;
    if (!parse_resource_path(req, ctx, is_resource) && is_resource) {
      auto scope = ctx.ns.empty() ? std::string("at the cluster scope")
                                  : "in the namespace " + go_quote(ctx.ns);
      auto what = ctx.type->group_resource()
                  + (ctx.name.empty() ? "" : " " + go_quote(ctx.name));
      auto resource
        = ctx.type->resource + (ctx.sub.empty() ? "" : "/" + ctx.sub);
      return {errors::forbidden(
                what + " is forbidden: User \"system:anonymous\" cannot "
                  + ctx.verb + " resource " + go_quote(resource)
                  + " in API group " + go_quote(ctx.type->group) + " " + scope,
                errors::details(ctx.type->group, ctx.type->resource, ctx.name))
                .to_response(),
              nullptr};
    }
    return {errors::forbidden("forbidden: User \"system:anonymous\" cannot "
                              + lower(req.method) + " path " + go_quote(path))
              .to_response(),
            nullptr};
  }
  if (path.rfind("/devcluster/", 0) == 0)
    return serve_admin(req, user);
  if (path == "/.well-known/openid-configuration") {
    json doc{{"issuer", tokens.issuer()},
             {"jwks_uri", "https://" + cfg.server_address + "/openid/v1/jwks"},
             {"response_types_supported", {"id_token"}},
             {"subject_types_supported", {"public"}},
             {"id_token_signing_alg_values_supported", {"RS256"}}};
    return {json_response(200, doc), nullptr};
  }
  if (path == "/openid/v1/jwks") {
    auto r = json_response(200, tokens.jwks());
    r.content_type = "application/jwk-set+json";
    return {std::move(r), nullptr};
  }
  // Discovery and OpenAPI.
  if (path == "/api" || path == "/api/" || path == "/apis"
      || path == "/apis/") {
    if (!is_get)
      return {errors::method_not_allowed().to_response(), nullptr};
    bool core = path.rfind("/api/", 0) == 0 || path == "/api";
    if (auto v = wants_aggregated(req.accept); !v.empty()) {
      auto r = json_response(
        200, disco.aggregated(core, "apidiscovery.k8s.io/" + v));
      r.content_type = v == "v2" ? aggregated_v2 : aggregated_v2beta1;
      r.headers.emplace_back("Vary", "Accept");
      return {std::move(r), nullptr};
    }
    return {
      json_response(200, core ? disco.core_versions() : disco.group_list()),
      nullptr};
  }
  if (path.rfind("/openapi/", 0) == 0 || path == "/openapi") {
    if (!is_get)
      return {errors::method_not_allowed().to_response(), nullptr};
    if (path == "/openapi/v3" || path == "/openapi/v3/")
      return {json_response(200, disco.openapi_index()), nullptr};
    if (path == "/openapi/v2" || path == "/openapi/v2/") {
      // An empty document: kubectl's client-side validation (used for
      // kinds whose OpenAPI v3 has no PATCH, e.g. TokenReview) then skips
      // the unknown kind, as it does for kinds a real server leaves out.
      http_response r;
      if (req.accept.find("protobuf") != std::string::npos) {
        r.content_type
          = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";
      } else {
        r.body
          = json{{"swagger", "2.0"},
                 {"info", {{"title", "Kubernetes"}, {"version", "v1.32.0"}}},
                 {"paths", json::object()},
                 {"definitions", json::object()}}
              .dump();
      }
      return {std::move(r), nullptr};
    }
    if (path.rfind("/openapi/v3/", 0) == 0) {
      auto doc = disco.openapi_document(path.substr(12));
      if (!doc.is_null())
        return {json_response(200, doc), nullptr};
    }
    return {errors::path_not_found().to_response(), nullptr};
  }
  request_ctx ctx;
  ctx.req = &req;
  ctx.user = user;
  bool is_resource = false;
  if (auto err = parse_resource_path(req, ctx, is_resource))
    return {err->to_response(), nullptr};
  if (!is_resource) {
    // /api/v1, /apis/G, /apis/G/V
    if (!is_get)
      return {errors::method_not_allowed().to_response(), nullptr};
    auto segs = split(path, '/');
    std::erase(segs, std::string{});
    json doc;
    if (segs.size() == 2 && segs[0] == "api")
      doc = disco.resource_list("", segs[1]);
    else if (segs.size() == 2 && segs[0] == "apis")
      doc = disco.group(segs[1]);
    else if (segs.size() == 3 && segs[0] == "apis")
      doc = disco.resource_list(segs[1], segs[2]);
    if (doc.is_null())
      return {errors::path_not_found().to_response(), nullptr};
    return {json_response(200, doc), nullptr};
  }
  return serve_resource(ctx);
}

api_result api_impl::serve_resource(request_ctx& ctx) {
  auto& t = *ctx.type;
  // Is the verb served for this (sub)resource?
  const std::vector<std::string>* verbs = &t.verbs;
  if (!ctx.sub.empty())
    for (auto& s : t.subresources)
      if (s.name == ctx.sub)
        verbs = &s.verbs;
  auto verb = ctx.verb;
  if (!ctx.sub.empty() && verb == "watch")
    verb = "get-watch"; // never served
  if (std::find(verbs->begin(), verbs->end(), verb) == verbs->end())
    return {errors::method_not_allowed().to_response(), nullptr};
  auto out = negotiate(ctx.req->accept);
  if (!out)
    return {errors::not_acceptable(ctx.req->accept).to_response(), nullptr};
  ctx.out = *out;
  if (auto& inc = ctx.param("includeObject"); !inc.empty()) {
    if (inc == "None")
      ctx.include = include_object::none;
    else if (inc == "Object")
      ctx.include = include_object::object;
    else if (inc == "Metadata")
      ctx.include = include_object::metadata;
    else
      return {
        errors::bad_request("invalid includeObject: " + inc).to_response(),
        nullptr};
  }
  if (auto& dry = ctx.param("dryRun"); !dry.empty()) {
    if (dry != "All")
      return {errors::bad_request("dryRun: Unsupported value: " + go_quote(dry)
                                  + ": supported values: \"All\"")
                .to_response(),
              nullptr};
    ctx.dry_run = true;
  }
  if (ctx.sub == "token")
    return token_request(ctx);
  if (t.group == "authentication.k8s.io" && t.resource == "tokenreviews")
    return token_review(ctx);
  if (!t.stored)
    return self_review(ctx);
  if (ctx.verb == "get")
    return get(ctx);
  if (ctx.verb == "list")
    return list(ctx);
  if (ctx.verb == "watch")
    return watch(ctx);
  if (ctx.verb == "create")
    return create(ctx);
  if (ctx.verb == "update")
    return update(ctx);
  if (ctx.verb == "patch")
    return patch(ctx);
  if (ctx.verb == "delete")
    return remove(ctx);
  if (ctx.verb == "deletecollection")
    return remove_collection(ctx);
  return {errors::method_not_allowed().to_response(), nullptr};
}

api_result api_impl::serve_admin(const http_request& req,
                                 const user_info& user) {
  if (!user.admin)
    return {errors::forbidden("forbidden: User " + go_quote(user.name)
                              + " cannot use the devcluster admin API")
              .to_response(),
            nullptr};
  const auto& path = req.path;
  const auto& m = req.method;
  if (path == "/devcluster/v1/faults") {
    if (m == "GET")
      return {json_response(200, faults.to_json()), nullptr};
    if (m == "POST" || m == "PUT" || m == "DELETE") {
      json config = json::object();
      if (m != "DELETE" && !req.body.empty()) {
        config = json::parse(req.body, nullptr, false);
        if (config.is_discarded())
          return {errors::bad_request("fault configuration is not JSON")
                    .to_response(),
                  nullptr};
      }
      if (auto err = faults.configure(config))
        return {errors::bad_request(*err).to_response(), nullptr};
      return {json_response(200, faults.to_json()), nullptr};
    }
    return {errors::method_not_allowed().to_response(), nullptr};
  }
  if (path == "/devcluster/v1/compact") {
    if (m != "POST")
      return {errors::method_not_allowed().to_response(), nullptr};
    store.compact();
    return {json_response(200, {{"resourceVersion",
                                 std::to_string(store.resource_version())}}),
            nullptr};
  }
  if (path == "/devcluster/v1/drop-watches") {
    if (m != "POST")
      return {errors::method_not_allowed().to_response(), nullptr};
    std::vector<watch_stream*> all(watches.begin(), watches.end());
    for (auto* w : all)
      w->end();
    return {json_response(200, {{"dropped", all.size()}}), nullptr};
  }
  if (path == "/devcluster/v1/objects") {
    // Bulk set-up for benchmarks: one request creates many objects, each
    // exactly as a POST of its own would (admission, a new namespace's
    // ServiceAccount and kube-root-ca.crt, watch events). Not atomic: the
    // objects before a failure stay.
    if (m != "POST")
      return {errors::method_not_allowed().to_response(), nullptr};
    auto list = json::parse(req.body, nullptr, false);
    auto items = list.is_object() ? list.find("items") : list.end();
    if (list.is_discarded() || !list.is_object() || items == list.end()
        || !items->is_array())
      return {
        errors::bad_request("expected {\"items\": [objects]}").to_response(),
        nullptr};
    auto text = [](const json& obj, const char* key) {
      auto i = obj.find(key);
      return i != obj.end() && i->is_string() ? i->get<std::string>()
                                              : std::string{};
    };
    std::size_t created = 0;
    for (auto& item : *items) {
      const resource_type* type = nullptr;
      if (!item.is_object())
        return {errors::bad_request("item " + std::to_string(created)
                                    + " is not an object")
                  .to_response(),
                nullptr};
      auto api_version = text(item, "apiVersion");
      auto kind = text(item, "kind");
      for (auto& t : registry.all())
        if (t.stored && t.kind == kind && t.api_version() == api_version)
          type = &t;
      if (!type)
        return {errors::bad_request("item " + std::to_string(created)
                                    + ": no stored resource of kind "
                                    + go_quote(kind) + " in "
                                    + go_quote(api_version))
                  .to_response(),
                nullptr};
      std::string ns;
      if (auto meta = item.find("metadata");
          type->namespaced && meta != item.end() && meta->is_object())
        ns = text(*meta, "namespace");
      if (type->namespaced && ns.empty())
        return {errors::bad_request("item " + std::to_string(created)
                                    + ": metadata.namespace is required")
                  .to_response(),
                nullptr};
      auto result = create_object(*type, ns, item, admin, false);
      if (auto* err = std::get_if<api_error>(&result))
        return {err->to_response(), nullptr};
      ++created;
    }
    return {json_response(200, {{"created", created}}), nullptr};
  }
  if (path == "/devcluster/v1/stats") {
    if (m != "GET")
      return {errors::method_not_allowed().to_response(), nullptr};
    json stats{{"resourceVersion", std::to_string(store.resource_version())},
               {"oldestResourceVersion",
                std::to_string(store.oldest_resource_version())},
               {"historySize", store.history_size()},
               {"watches", watches.size()}};
    json counts = json::object();
    for (auto& t : registry.all())
      if (t.stored)
        counts[t.group_resource()] = store.count(t);
    stats["objects"] = std::move(counts);
    return {json_response(200, stats), nullptr};
  }
  return {errors::path_not_found().to_response(), nullptr};
}

// --- api_server
// -----------------------------------------------------------------

api_server::api_server(net::io_context& ioc, api_config cfg,
                       std::future<key_pair> sa_key)
  : impl_(std::make_unique<api_impl>(ioc, std::move(cfg), std::move(sa_key))) {}

api_server::~api_server() = default;

void api_server::handle(http_request req,
                        std::function<void(api_result)> done) {
  impl_->handle(std::move(req), std::move(done));
}

void api_server::create(const std::string& resource_path, const json& body) {
  // resource_path: "api/v1/namespaces/NS/configmaps" style.
  http_request req;
  req.method = "POST";
  req.path = "/" + resource_path;
  req.body = body.dump();
  request_ctx ctx;
  ctx.req = &req;
  ctx.user = impl_->admin;
  bool is_resource = false;
  if (auto err = impl_->parse_resource_path(req, ctx, is_resource))
    throw std::runtime_error(err->status.value("message", "bad path"));
  if (!is_resource)
    throw std::runtime_error("not a resource path: " + resource_path);
  auto result
    = impl_->create_object(*ctx.type, ctx.ns, body, impl_->admin, false);
  if (auto* err = std::get_if<api_error>(&result))
    throw std::runtime_error(err->status.value("message", "create failed"));
}

std::optional<std::string> api_server::configure_faults(const json& config) {
  return impl_->faults.configure(config);
}

object_store& api_server::store() {
  return impl_->store;
}

const resource_registry& api_server::registry() const {
  return impl_->registry;
}

} // namespace istio_csr::devcluster
