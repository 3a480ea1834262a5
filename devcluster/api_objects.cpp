// Object verbs: get, list, create, update, patch, delete, deletecollection,
// with the semantics of a real kube-apiserver (see
// docs/kube-api.md).

#include <algorithm>

#include "devcluster/api_impl.hpp"
#include "devcluster/crypto.hpp"
#include "devcluster/protobuf.hpp"
#include "devcluster/util.hpp"
#include "devcluster/watch.hpp"
#include "errors/describe.hpp"
#include "kube/api/validation.hpp"
#include "pki/csr.hpp"

namespace istio_csr::devcluster {

namespace {

using json = nlohmann::json;
using clock = std::chrono::system_clock;

const std::string empty_string;

const char* const immortal_namespaces[]
  = {"default", "kube-system", "kube-public"};

std::string media_type(const std::string& content_type) {
  auto semi = content_type.find(';');
  auto t = content_type.substr(0, semi);
  while (!t.empty() && t.back() == ' ')
    t.pop_back();
  for (auto& c : t)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return t;
}

const json& at(const json& obj, std::initializer_list<const char*> path) {
  static const json null_value;
  const json* cur = &obj;
  for (auto* key : path) {
    if (!cur->is_object())
      return null_value;
    auto it = cur->find(key);
    if (it == cur->end())
      return null_value;
    cur = &*it;
  }
  return *cur;
}

std::string str_at(const json& obj, std::initializer_list<const char*> path) {
  auto& v = at(obj, path);
  return v.is_string() ? v.get<std::string>() : std::string{};
}

bool has_finalizers(const json& body) {
  auto& f = at(body, {"metadata", "finalizers"});
  return f.is_array() && !f.empty();
}

bool is_deleting(const json& body) {
  return !at(body, {"metadata", "deletionTimestamp"}).is_null();
}

/// Checks kind/apiVersion of a body against the type; strips them.
std::optional<api_error> check_kind(const resource_type& t, json& body,
                                    const std::string& kind,
                                    const std::string& api_version) {
  if (auto it = body.find("apiVersion"); it != body.end()) {
    if (!it->is_string())
      return errors::bad_request("apiVersion must be a string");
    if (!it->get<std::string>().empty() && *it != api_version)
      return errors::bad_request("the API version in the data ("
                                 + it->get<std::string>()
                                 + ") does not match the expected API "
                                   "version ("
                                 + api_version + ")");
    body.erase(it);
  }
  if (auto it = body.find("kind"); it != body.end()) {
    if (!it->is_string())
      return errors::bad_request("kind must be a string");
    if (!it->get<std::string>().empty() && *it != kind)
      return errors::bad_request(it->get<std::string>() + " in version \""
                                 + t.version + "\" cannot be handled as a "
                                 + kind
                                 + ": the kind in the data does not match");
    body.erase(it);
  }
  auto& meta = body["metadata"];
  if (meta.is_null())
    meta = json::object();
  if (!meta.is_object())
    return errors::bad_request("metadata must be an object");
  return std::nullopt;
}

/// JSON (with kind/apiVersion) of a stored object.
json full_object(const resource_type& t, const stored_object& o) {
  auto j = o.body;
  j["apiVersion"] = t.api_version();
  j["kind"] = t.kind;
  return j;
}

std::string list_json(const resource_type& t,
                      const std::vector<const stored_object*>& items,
                      const json& meta) {
  std::string out = R"({"apiVersion":")" + t.api_version() + R"(","items":[)";
  bool first = true;
  for (auto* o : items) {
    if (!first)
      out += ',';
    first = false;
    if (t.custom)
      out += object_json(t, *o);
    else
      out += o->json;
  }
  out += R"(],"kind":")" + t.kind + R"(List","metadata":)" + meta.dump() + "}";
  return out;
}

std::string encode_continue(uint64_t rv, const std::string& ns,
                            const std::string& name) {
  json j{{"v", "meta.k8s.io/v1"}, {"rv", rv}, {"start", ns + "/" + name}};
  return base64url_encode(j.dump());
}

struct continue_token {
  uint64_t rv = 0;
  std::string ns;
  std::string name;
};

std::optional<continue_token> decode_continue(const std::string& text) {
  auto raw = base64url_decode(text);
  if (!raw)
    raw = base64_decode(text);
  if (!raw)
    return std::nullopt;
  auto j = json::parse(*raw, nullptr, false);
  if (!j.is_object() || j.value("v", "") != "meta.k8s.io/v1")
    return std::nullopt;
  continue_token t;
  auto rv = j.find("rv");
  if (rv == j.end() || !rv->is_number_integer())
    return std::nullopt;
  t.rv = rv->get<int64_t>() < 0 ? 0 : rv->get<uint64_t>();
  auto start = j.value("start", "");
  auto slash = start.find('/');
  if (slash == std::string::npos)
    return std::nullopt;
  t.ns = start.substr(0, slash);
  t.name = start.substr(slash + 1);
  return t;
}

api_error list_options_invalid(const std::string& field,
                               const std::string& detail) {
  auto d = errors::details("meta.k8s.io", "ListOptions", "");
  d["causes"] = json::array({{{"reason", "FieldValueForbidden"},
                              {"message", "Forbidden: " + detail},
                              {"field", field}}});
  return errors::make(422, "Invalid",
                      "ListOptions.meta.k8s.io \"\" is invalid: " + field
                        + ": Forbidden: " + detail,
                      std::move(d));
}

api_error too_large_rv(uint64_t rv, uint64_t current) {
  auto e = errors::timeout("Too large resource version: " + std::to_string(rv)
                             + ", current: " + std::to_string(current),
                           1);
  e.status["details"]["causes"]
    = json::array({{{"reason", "ResourceVersionTooLarge"},
                    {"message", "Too large resource version"}}});
  return e;
}

// The enum of cert-manager's CRD schema for `spec.usages` (Certificate and
// CertificateRequest): the API server refuses anything else with 422.
void check_key_usages(const json& spec, std::vector<field_cause>& causes) {
  static const std::vector<std::string> supported{"signing",
                                                  "digital signature",
                                                  "content commitment",
                                                  "key encipherment",
                                                  "key agreement",
                                                  "data encipherment",
                                                  "cert sign",
                                                  "crl sign",
                                                  "encipher only",
                                                  "decipher only",
                                                  "any",
                                                  "server auth",
                                                  "client auth",
                                                  "code signing",
                                                  "email protection",
                                                  "s/mime",
                                                  "ipsec end system",
                                                  "ipsec tunnel",
                                                  "ipsec user",
                                                  "timestamping",
                                                  "ocsp signing",
                                                  "microsoft sgc",
                                                  "netscape sgc"};
  auto it = spec.find("usages");
  if (it == spec.end() || !it->is_array())
    return;
  for (size_t i = 0; i < it->size(); ++i) {
    auto& u = (*it)[i];
    if (u.is_string()
        && std::find(supported.begin(), supported.end(), u.get<std::string>())
             != supported.end())
      continue;
    std::string list;
    for (auto& v : supported)
      list += (list.empty() ? "" : ", ") + go_quote(v);
    causes.push_back(
      {"FieldValueNotSupported",
       "Unsupported value: " + u.dump() + ": supported values: " + list,
       "spec.usages[" + std::to_string(i) + "]"});
  }
}

api_error webhook_denied(const std::vector<std::string>& errs) {
  std::string msg;
  if (errs.size() == 1) {
    msg = errs[0];
  } else {
    msg = "[";
    for (size_t i = 0; i < errs.size(); ++i)
      msg += (i ? ", " : "") + errs[i];
    msg += "]";
  }
  return errors::make(
    406, "NotAcceptable",
    "admission webhook \"webhook.cert-manager.io\" denied the request: " + msg);
}

/// Strategic merge patch without schema knowledge: a JSON merge patch that
/// understands the `$patch: delete|replace` directive and drops the other
/// `$` directives (lists are replaced, not merged by key).
void strategic_merge(json& target, const json& patch) {
  if (!patch.is_object()) {
    target = patch;
    return;
  }
  if (auto d = patch.find("$patch"); d != patch.end() && *d == "replace") {
    target = patch;
    target.erase("$patch");
    return;
  }
  if (!target.is_object())
    target = json::object();
  for (auto& [key, value] : patch.items()) {
    if (!key.empty() && key[0] == '$')
      continue;
    if (value.is_null()) {
      target.erase(key);
    } else if (value.is_object()) {
      if (auto d = value.find("$patch"); d != value.end() && *d == "delete") {
        target.erase(key);
        continue;
      }
      strategic_merge(target[key], value);
    } else {
      target[key] = value;
    }
  }
}

/// Data keys of ConfigMaps and Secrets: [-._a-zA-Z0-9]+.
std::optional<std::string> config_key_error(const std::string& key) {
  bool ok = !key.empty() && key.size() <= 253;
  for (char c : key)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'
          || c == '.'))
      ok = false;
  if (key == "." || key == "..")
    ok = false;
  if (ok)
    return std::nullopt;
  return "a valid config key must consist of alphanumeric characters, '-', "
         "'_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex "
         "used for validation is '[-._a-zA-Z0-9]+')";
}

} // namespace

// --- filters ---------------------------------------------------------------

std::string field_value(const stored_object& o, const std::string& path) {
  if (path == "metadata.name")
    return o.name;
  if (path == "metadata.namespace")
    return o.ns;
  const json* cur = &o.body;
  size_t start = 0;
  while (start <= path.size()) {
    auto dot = path.find('.', start);
    auto key = path.substr(start, dot == std::string::npos ? std::string::npos
                                                           : dot - start);
    if (!cur->is_object())
      return "";
    auto it = cur->find(key);
    if (it == cur->end())
      return "";
    cur = &*it;
    if (dot == std::string::npos)
      break;
    start = dot + 1;
  }
  if (cur->is_string())
    return cur->get<std::string>();
  if (cur->is_boolean())
    return cur->get<bool>() ? "true" : "false";
  if (cur->is_number())
    return cur->dump();
  return "";
}

bool object_filter::matches(const stored_object& o) const {
  if (name && o.name != *name)
    return false;
  if (!labels.empty() && !labels.matches(o.labels))
    return false;
  if (!fields.empty() && !fields.matches([&](const std::string& f) {
        return field_value(o, f);
      }))
    return false;
  return true;
}

const std::string& request_ctx::param(const std::string& key) const {
  auto it = req->query.find(key);
  return it == req->query.end() ? empty_string : it->second;
}

outcome<object_filter> make_filter(const request_ctx& ctx) {
  object_filter f;
  f.type = ctx.type;
  if (auto& ls = ctx.param("labelSelector"); !ls.empty()) {
    auto parsed = kube::label_selector::parse(ls);
    if (!parsed)
      return errors::bad_request("unable to parse requirement: "
                                 + istio_csr::errors::message(parsed.error()));
    f.labels = std::move(*parsed);
  }
  if (auto& fs = ctx.param("fieldSelector"); !fs.empty()) {
    auto parsed = kube::field_selector::parse(fs);
    if (!parsed)
      return errors::bad_request("invalid field selector: "
                                 + istio_csr::errors::message(parsed.error()));
    for (auto& term : parsed->terms()) {
      if (!ctx.type->allows_field(term.field)) {
        if (ctx.type->custom)
          return errors::bad_request(go_quote(term.field)
                                     + " is not a known field selector: only "
                                       "\"metadata.name\", "
                                       "\"metadata.namespace\"");
        return errors::bad_request("field label not supported: " + term.field);
      }
    }
    f.fields = std::move(*parsed);
  }
  return f;
}

// --- bodies and responses
// ------------------------------------------------------

outcome<json> decode_body(const http_request& req) {
  auto mt = media_type(req.content_type);
  if (mt == protobuf_media_type) {
    auto decoded = decode_kubernetes_protobuf(req.body);
    if (auto* err = std::get_if<std::string>(&decoded))
      return errors::make(415, "UnsupportedMediaType", *err, json::object());
    return std::get<json>(std::move(decoded));
  }
  if (!mt.empty() && mt != "application/json" && mt != "*/*")
    return errors::unsupported_media_type(
      "application/json, application/yaml, "
      "application/vnd.kubernetes.protobuf");
  auto j = json::parse(req.body, nullptr, false);
  if (j.is_discarded())
    return errors::bad_request(
      "the object provided is unrecognized or invalid: invalid JSON");
  if (!j.is_object())
    return errors::bad_request(
      "the object provided is unrecognized (must be a JSON object)");
  return j;
}

http_response json_response(unsigned status, const json& body) {
  http_response r;
  r.status = status;
  r.body = body.dump();
  return r;
}

http_response api_impl::object_response(const resource_type& t,
                                        const stored_object& o, unsigned status,
                                        const request_ctx& ctx) {
  http_response r;
  r.status = status;
  switch (ctx.out) {
    case media::json: r.body = object_json(t, o); break;
    case media::metadata: r.body = partial_metadata(o).dump(); break;
    case media::table:
      r.body = tables[t.id].table({&o}, "", ctx.include, clock::now()).dump();
      break;
  }
  return r;
}

// --- get / list -------------------------------------------------------------

api_result api_impl::get(request_ctx& ctx) {
  auto& t = *ctx.type;
  auto obj = store.get(t, ctx.ns, ctx.name);
  if (!obj)
    return {errors::not_found(t, ctx.name).to_response(), nullptr};
  return {object_response(t, *obj, 200, ctx), nullptr};
}

api_result api_impl::list(request_ctx& ctx) {
  auto& t = *ctx.type;
  auto filter = make_filter(ctx);
  if (auto* err = std::get_if<api_error>(&filter))
    return {err->to_response(), nullptr};
  auto& f = std::get<object_filter>(filter);
  auto& rv_param = ctx.param("resourceVersion");
  auto& match = ctx.param("resourceVersionMatch");
  auto& cont = ctx.param("continue");
  size_t limit = 0;
  if (auto& l = ctx.param("limit"); !l.empty()) {
    auto v = parse_uint(l);
    if (!v)
      return {errors::bad_request("invalid limit: " + l).to_response(),
              nullptr};
    limit = static_cast<size_t>(*v);
  }
  if (!match.empty() && rv_param.empty())
    return {list_options_invalid("resourceVersionMatch",
                                 "resourceVersionMatch is forbidden unless "
                                 "resourceVersion is provided")
              .to_response(),
            nullptr};
  if (!match.empty() && !cont.empty())
    return {list_options_invalid("resourceVersionMatch",
                                 "resourceVersionMatch is forbidden when "
                                 "continue is provided")
              .to_response(),
            nullptr};
  if (!match.empty() && match != "Exact" && match != "NotOlderThan")
    return {list_options_invalid("resourceVersionMatch",
                                 "resourceVersionMatch must be one of "
                                 "\"Exact\", \"NotOlderThan\"")
              .to_response(),
            nullptr};
  const uint64_t current = store.resource_version();
  uint64_t at_rv = current;
  std::optional<continue_token> start;
  if (!cont.empty()) {
    if (!rv_param.empty() && rv_param != "0")
      return {errors::bad_request("specifying resource version is not "
                                  "allowed when using continue")
                .to_response(),
              nullptr};
    start = decode_continue(cont);
    if (!start)
      return {errors::bad_request("continue key is not valid: incorrect "
                                  "encoded start resourceVersion (version "
                                  "meta.k8s.io/v1)")
                .to_response(),
              nullptr};
    if (start->rv == 0) {
      at_rv = current; // an "inconsistent" continuation: latest state
    } else if (start->rv < store.oldest_resource_version()) {
      auto e = errors::expired(
        "The provided continue parameter is too old to display a "
        "consistent list result. You can start a new list without the "
        "continue parameter, or use the continue token in this response to "
        "retrieve the remainder of the results. Continuing with the "
        "provided token results in an inconsistent list - objects that were "
        "created, modified, or deleted between the time the first chunk was "
        "returned and now may show up in the list.");
      e.status["metadata"]["continue"]
        = encode_continue(0, start->ns, start->name);
      return {e.to_response(), nullptr};
    } else if (start->rv > current) {
      return {errors::bad_request("continue key is not valid").to_response(),
              nullptr};
    } else {
      at_rv = start->rv;
    }
  } else if (!rv_param.empty()) {
    auto v = parse_uint(rv_param);
    if (!v)
      return {errors::bad_request("invalid resource version: " + rv_param)
                .to_response(),
              nullptr};
    if (*v == 0) {
      limit = 0; // served from the cache: limit is ignored
    } else if (*v > current) {
      return {too_large_rv(*v, current).to_response(), nullptr};
    } else if (match == "Exact") {
      if (*v < store.oldest_resource_version())
        return {errors::expired("The resourceVersion for the provided list "
                                "is too old.")
                  .to_response(),
                nullptr};
      at_rv = *v;
    }
  }
  std::optional<std::string_view> scope;
  if (t.namespaced && !ctx.ns.empty())
    scope = ctx.ns;
  else if (!t.namespaced)
    scope = std::string_view{};
  // Objects in key order, from the live maps or from a snapshot at at_rv.
  std::vector<object_ptr> snapshot;
  bool use_snapshot = at_rv < current && store.changed_since(t, scope, at_rv);
  if (use_snapshot)
    snapshot = store.snapshot(t, scope, at_rv);
  std::vector<const stored_object*> items;
  bool more = false;
  size_t remaining = 0;
  const stored_object* last = nullptr;
  bool counting = false;
  // Returns false to stop.
  auto visit = [&](const stored_object& o) {
    if (counting) {
      ++remaining;
      return true;
    }
    if (!f.matches(o))
      return true;
    if (limit != 0 && items.size() == limit) {
      more = true;
      if (!f.empty())
        return false;
      counting = true;
      remaining = 1;
      return true;
    }
    items.push_back(&o);
    last = &o;
    return true;
  };
  auto after_start = [&](const stored_object& o) {
    if (!start)
      return true;
    return std::tie(o.ns, o.name) > std::tie(start->ns, start->name);
  };
  if (use_snapshot) {
    for (auto& o : snapshot)
      if (after_start(*o) && !visit(*o))
        break;
  } else {
    auto& table = store.objects(t);
    auto nit = scope ? table.find(*scope) : table.begin();
    if (!scope && start)
      nit = table.lower_bound(start->ns);
    bool stop = false;
    for (; nit != table.end() && !stop; ++nit) {
      auto& names = nit->second;
      auto it = names.begin();
      if (start && nit->first == start->ns)
        it = names.upper_bound(start->name);
      else if (start && nit->first < start->ns)
        it = names.end();
      for (; it != names.end(); ++it)
        if (!visit(*it->second)) {
          stop = true;
          break;
        }
      if (scope)
        break;
    }
  }
  json meta = json::object();
  meta["resourceVersion"] = std::to_string(at_rv);
  if (more && last != nullptr) {
    meta["continue"] = encode_continue(at_rv, last->ns, last->name);
    if (f.empty())
      meta["remainingItemCount"] = remaining;
  }
  http_response r;
  switch (ctx.out) {
    case media::json: r.body = list_json(t, items, meta); break;
    case media::metadata: {
      json list{{"kind", "PartialObjectMetadataList"},
                {"apiVersion", "meta.k8s.io/v1"},
                {"metadata", meta},
                {"items", json::array()}};
      for (auto* o : items)
        list["items"].push_back(partial_metadata(*o));
      r.body = list.dump();
      break;
    }
    case media::table: {
      auto table = tables[t.id].table(items, std::to_string(at_rv), ctx.include,
                                      clock::now());
      table["metadata"] = meta;
      r.body = table.dump();
      break;
    }
  }
  return {std::move(r), nullptr};
}

// --- watch ------------------------------------------------------------------

api_result api_impl::watch(request_ctx& ctx) {
  auto filter = make_filter(ctx);
  if (auto* err = std::get_if<api_error>(&filter))
    return {err->to_response(), nullptr};
  watch_params p;
  p.type = ctx.type;
  p.ns = ctx.type->namespaced ? ctx.ns : "";
  p.filter = std::move(std::get<object_filter>(filter));
  if (!ctx.name.empty())
    p.filter.name = ctx.name;
  p.format = ctx.out;
  p.include = ctx.include;
  auto flag = [&](const std::string& key) {
    auto& v = ctx.param(key);
    return v == "true" || v == "1";
  };
  p.bookmarks = flag("allowWatchBookmarks");
  if (auto& ts = ctx.param("timeoutSeconds"); !ts.empty()) {
    auto v = parse_uint(ts);
    if (!v)
      return {
        errors::bad_request("invalid timeoutSeconds: " + ts).to_response(),
        nullptr};
    p.timeout = std::chrono::seconds{*v};
  }
  auto& rv_param = ctx.param("resourceVersion");
  bool initial_events = flag("sendInitialEvents");
  if (initial_events) {
    if (ctx.param("resourceVersionMatch") != "NotOlderThan")
      return {list_options_invalid("resourceVersionMatch",
                                   "sendInitialEvents requires setting "
                                   "resourceVersionMatch to NotOlderThan")
                .to_response(),
              nullptr};
    if (!p.bookmarks)
      return {list_options_invalid("allowWatchBookmarks",
                                   "sendInitialEvents requires "
                                   "allowWatchBookmarks=true")
                .to_response(),
              nullptr};
    p.mode = watch_params::start_mode::initial_events;
  } else if (rv_param.empty() || rv_param == "0") {
    p.mode = watch_params::start_mode::current_state;
  } else {
    auto v = parse_uint(rv_param);
    if (!v)
      return {errors::bad_request("invalid resource version: " + rv_param)
                .to_response(),
              nullptr};
    if (*v > store.resource_version())
      return {too_large_rv(*v, store.resource_version()).to_response(),
              nullptr};
    p.mode = watch_params::start_mode::since;
    p.since = *v;
  }
  return {http_response{}, std::make_unique<watch_stream>(*this, std::move(p))};
}

// --- create -----------------------------------------------------------------

std::optional<api_error> api_impl::check_namespace(const resource_type& t,
                                                   const std::string& ns,
                                                   const std::string& name) {
  if (!t.namespaced)
    return std::nullopt;
  auto ns_obj = store.get(registry.core("namespaces"), "", ns);
  if (!ns_obj)
    return errors::not_found("", "namespaces", ns);
  if (is_deleting(ns_obj->body) && t.resource != "events") {
    auto d = errors::details(t.group, t.resource, name);
    d["causes"]
      = json::array({{{"reason", "NamespaceTerminating"},
                      {"message", "namespace " + ns + " is being terminated"},
                      {"field", "metadata.namespace"}}});
    auto who = t.group_resource() + (name.empty() ? "" : " " + go_quote(name));
    return errors::forbidden(who
                               + " is forbidden: unable to create new "
                                 "content in namespace "
                               + ns + " because it is being terminated",
                             std::move(d));
  }
  return std::nullopt;
}

api_result api_impl::create(request_ctx& ctx) {
  auto& t = *ctx.type;
  if (t.namespaced && ctx.ns.empty())
    return {errors::method_not_allowed().to_response(), nullptr};
  auto body = decode_body(*ctx.req);
  if (auto* err = std::get_if<api_error>(&body))
    return {err->to_response(), nullptr};
  auto result = create_object(t, ctx.ns, std::move(std::get<json>(body)),
                              ctx.user, ctx.dry_run);
  if (auto* err = std::get_if<api_error>(&result))
    return {err->to_response(), nullptr};
  return {object_response(t, *std::get<object_ptr>(result), 201, ctx), nullptr};
}

outcome<object_ptr> api_impl::create_object(const resource_type& t,
                                            const std::string& ns, json body,
                                            const user_info& user,
                                            bool dry_run) {
  if (auto err = check_kind(t, body, t.kind, t.api_version()))
    return *err;
  auto& meta = body["metadata"];
  if (t.namespaced) {
    auto body_ns = meta.value("namespace", "");
    if (!body_ns.empty() && body_ns != ns)
      return errors::bad_request("the namespace of the provided object does "
                                 "not match the namespace sent on the "
                                 "request");
    meta["namespace"] = ns;
  } else {
    meta.erase("namespace");
  }
  auto name = meta.value("name", "");
  auto generate = meta.value("generateName", "");
  if (name.empty() && !generate.empty()) {
    for (int attempt = 0; attempt < 8; ++attempt) {
      name = generate + random_name_suffix();
      if (!store.get(t, t.namespaced ? ns : "", name))
        break;
    }
    meta["name"] = name;
  }
  if (name.empty())
    return errors::invalid(
      t, "",
      {errors::required_value("metadata.name",
                              "name or generateName is required")});
  std::vector<field_cause> causes;
  const std::string name_field = "metadata.name";
  switch (t.names) {
    case name_rule::dns1123_subdomain:
      for (auto& e : kube::dns1123_subdomain_errors(name))
        causes.push_back(errors::invalid_value(name_field, name, e));
      break;
    case name_rule::dns1123_label:
      for (auto& e : kube::dns1123_label_errors(name))
        causes.push_back(errors::invalid_value(name_field, name, e));
      break;
    case name_rule::path_segment:
      if (name == "." || name == "..")
        causes.push_back(
          errors::invalid_value(name_field, name, "may not be '" + name + "'"));
      for (auto bad : {"/", "%"})
        if (name.find(bad) != std::string::npos)
          causes.push_back(errors::invalid_value(
            name_field, name, std::string("may not contain '") + bad + "'"));
      break;
  }
  if (t.resource == "namespaces")
    // The automatic kubernetes.io/metadata.name label inherits the name.
    for (auto& e : kube::label_value_errors(name))
      causes.push_back(errors::invalid_value("metadata.labels", name, e));
  if (!causes.empty())
    return errors::invalid(t, name, causes);
  if (auto err = check_namespace(t, ns, name))
    return *err;
  if (store.get(t, t.namespaced ? ns : "", name))
    return errors::already_exists(t, name);
  meta["uid"] = new_uuid();
  meta["creationTimestamp"] = format_time(clock::now());
  meta.erase("resourceVersion");
  meta.erase("deletionTimestamp");
  meta.erase("deletionGracePeriodSeconds");
  meta.erase("selfLink");
  meta.erase("managedFields");
  if (t.has_generation)
    meta["generation"] = 1;
  else
    meta.erase("generation");
  if (t.custom && t.has_status)
    body.erase("status"); // the status subresource resets status on create
  if (auto err = admit(t, body, nullptr, user))
    return *err;
  if (dry_run)
    return stored_object::make(std::move(body));
  return commit(t, std::move(body));
}

// --- update -----------------------------------------------------------------

api_result api_impl::update(request_ctx& ctx) {
  auto& t = *ctx.type;
  auto parsed = decode_body(*ctx.req);
  if (auto* err = std::get_if<api_error>(&parsed))
    return {err->to_response(), nullptr};
  auto& body = std::get<json>(parsed);
  auto& meta = body["metadata"];
  if (!meta.is_null() && !meta.is_object())
    return {errors::bad_request("metadata must be an object").to_response(),
            nullptr};
  auto body_name = meta.is_object() ? meta.value("name", "") : "";
  if (body_name != ctx.name)
    return {errors::bad_request("the name of the object (" + body_name
                                + ") does not match the name on the URL ("
                                + ctx.name + ")")
              .to_response(),
            nullptr};
  if (t.namespaced && meta.is_object()) {
    auto body_ns = meta.value("namespace", "");
    if (!body_ns.empty() && body_ns != ctx.ns)
      return {errors::bad_request("the namespace of the provided object does "
                                  "not match the namespace sent on the "
                                  "request")
                .to_response(),
              nullptr};
  }
  auto old = store.get(t, ctx.ns, ctx.name);
  if (!old) {
    if (t.create_on_update && ctx.sub.empty()) {
      auto created
        = create_object(t, ctx.ns, std::move(body), ctx.user, ctx.dry_run);
      if (auto* err = std::get_if<api_error>(&created))
        return {err->to_response(), nullptr};
      return {object_response(t, *std::get<object_ptr>(created), 201, ctx),
              nullptr};
    }
    return {errors::not_found(t, ctx.name).to_response(), nullptr};
  }
  auto result
    = update_object(t, old, std::move(body), ctx.sub, ctx.user, ctx.dry_run);
  if (auto* err = std::get_if<api_error>(&result))
    return {err->to_response(), nullptr};
  return {object_response(t, *std::get<object_ptr>(result), 200, ctx), nullptr};
}

outcome<object_ptr> api_impl::update_object(const resource_type& t,
                                            object_ptr old, json incoming,
                                            const std::string& sub,
                                            const user_info& user,
                                            bool dry_run) {
  if (auto err = check_kind(t, incoming, t.kind, t.api_version()))
    return *err;
  auto& in_meta = incoming["metadata"];
  auto old_rv = std::to_string(old->rv);
  auto in_rv = in_meta.value("resourceVersion", "");
  if (!in_rv.empty() && in_rv != old_rv)
    return errors::conflict_modified(t, old->name);
  auto old_uid = str_at(old->body, {"metadata", "uid"});
  auto in_uid = in_meta.value("uid", "");
  if (!in_uid.empty() && in_uid != old_uid)
    return errors::conflict(t.group, t.resource, old->name,
                            "Precondition failed: UID in precondition: "
                              + in_uid + ", UID in object meta: " + old_uid);
  json next;
  if (sub == "status") {
    next = old->body;
    if (auto it = incoming.find("status"); it != incoming.end())
      next["status"] = *it;
    else
      next.erase("status");
  } else if (sub == "finalize") {
    next = old->body;
    next["spec"]["finalizers"] = at(incoming, {"spec", "finalizers"}).is_array()
                                   ? at(incoming, {"spec", "finalizers"})
                                   : json::array();
  } else {
    next = std::move(incoming);
    auto& nm = next["metadata"];
    auto& om = old->body["metadata"];
    for (auto* key :
         {"name", "namespace", "uid", "creationTimestamp", "generation",
          "deletionTimestamp", "deletionGracePeriodSeconds"}) {
      if (auto it = om.find(key); it != om.end())
        nm[key] = *it;
      else
        nm.erase(key);
    }
    nm.erase("selfLink");
    nm.erase("managedFields");
    if (t.has_status) {
      if (auto it = old->body.find("status"); it != old->body.end())
        next["status"] = *it;
      else
        next.erase("status");
    }
    if (t.resource == "namespaces") {
      // spec.finalizers only changes through /finalize.
      auto& of = at(old->body, {"spec", "finalizers"});
      if (of.is_null())
        next["spec"].erase("finalizers");
      else
        next["spec"]["finalizers"] = of;
    }
  }
  next["metadata"]["resourceVersion"] = old_rv;
  if (auto err = admit(t, next, old.get(), user))
    return *err;
  if (is_deleting(old->body)) {
    auto& of = at(old->body, {"metadata", "finalizers"});
    auto& nf = at(next, {"metadata", "finalizers"});
    json added = json::array();
    if (nf.is_array())
      for (auto& f : nf)
        if (!of.is_array() || std::find(of.begin(), of.end(), f) == of.end())
          added.push_back(f);
    if (!added.empty()) {
      std::string list;
      for (auto& a : added)
        list += (list.empty() ? "" : ", ") + go_quote(a.get<std::string>());
      return errors::invalid(
        t, old->name,
        {errors::forbidden_field(
          "metadata.finalizers",
          "no new finalizers can be added if the object is being deleted, "
          "found new finalizers []string{"
            + list + "}")});
    }
  }
  if (t.has_generation && sub.empty()) {
    auto strip = [](json j) {
      j.erase("metadata");
      j.erase("status");
      return j;
    };
    if (strip(next) != strip(old->body)) {
      auto gen = at(old->body, {"metadata", "generation"});
      next["metadata"]["generation"]
        = (gen.is_number_integer() ? gen.get<int64_t>() : 0) + 1;
    }
  }
  if (next == old->body)
    return old; // no-op: no new resourceVersion, no event
  if (dry_run)
    return stored_object::make(std::move(next));
  if (is_deleting(next) && !has_finalizers(next)) {
    auto last = store.get(t, old->ns, old->name);
    return commit_remove(t, *last, &next);
  }
  return commit(t, std::move(next));
}

// --- patch ------------------------------------------------------------------

api_result api_impl::patch(request_ctx& ctx) {
  auto& t = *ctx.type;
  auto mt = media_type(ctx.req->content_type);
  const std::string accepted
    = t.custom ? "application/json-patch+json, application/merge-patch+json, "
                 "application/apply-patch+yaml"
               : "application/json-patch+json, application/merge-patch+json, "
                 "application/strategic-merge-patch+json, "
                 "application/apply-patch+yaml";
  bool is_merge = mt == "application/merge-patch+json";
  bool is_smp = mt == "application/strategic-merge-patch+json";
  bool is_json_patch = mt == "application/json-patch+json";
  bool is_apply = mt == "application/apply-patch+yaml"
                  || mt == "application/apply-patch+cbor";
  if ((!is_merge && !is_smp && !is_json_patch && !is_apply)
      || (is_smp && t.custom))
    return {errors::unsupported_media_type(accepted).to_response(), nullptr};
  auto patch_doc = json::parse(ctx.req->body, nullptr, false);
  if (patch_doc.is_discarded())
    return {errors::bad_request(
              is_apply ? "error decoding YAML: only the JSON subset of YAML "
                         "is supported by devcluster"
                       : "error decoding patch: invalid JSON")
              .to_response(),
            nullptr};
  if (is_apply) {
    if (ctx.param("fieldManager").empty())
      return {errors::make(422, "Invalid",
                           "PatchOptions.meta.k8s.io \"\" is invalid: "
                           "fieldManager: Required value: is required for "
                           "apply patch",
                           errors::details("meta.k8s.io", "PatchOptions", ""))
                .to_response(),
              nullptr};
    if (!patch_doc.is_object())
      return {
        errors::bad_request("apply patch must be an object").to_response(),
        nullptr};
  }
  auto old = store.get(t, ctx.ns, ctx.name);
  if (!old) {
    if (is_apply && ctx.sub.empty()) {
      // Server-side apply creates missing objects. devcluster keeps no
      // field ownership: apply is a create or a merge.
      patch_doc["metadata"]["name"] = ctx.name;
      auto created
        = create_object(t, ctx.ns, std::move(patch_doc), ctx.user, ctx.dry_run);
      if (auto* err = std::get_if<api_error>(&created))
        return {err->to_response(), nullptr};
      return {object_response(t, *std::get<object_ptr>(created), 201, ctx),
              nullptr};
    }
    return {errors::not_found(t, ctx.name).to_response(), nullptr};
  }
  auto current = full_object(t, *old);
  json patched;
  if (is_json_patch) {
    if (!patch_doc.is_array())
      return {errors::bad_request("json: cannot unmarshal object into Go "
                                  "value of type jsonpatch.Patch")
                .to_response(),
              nullptr};
    try {
      patched = current.patch(patch_doc);
    } catch (const json::exception& e) {
      auto d = json::object();
      d["causes"] = json::array(
        {{{"reason", "UnexpectedServerResponse"}, {"message", e.what()}}});
      return {errors::make(422, "Invalid",
                           "the server rejected our request due to an error "
                           "in our request",
                           std::move(d))
                .to_response(),
              nullptr};
    }
  } else if (is_smp) {
    patched = current;
    strategic_merge(patched, patch_doc);
  } else {
    patched = current;
    if (is_apply) {
      // Fields the applier sets win; nothing is removed.
      patch_doc.erase("status");
      patched.merge_patch(patch_doc);
    } else {
      patched.merge_patch(patch_doc);
    }
  }
  if (!patched.is_object())
    return {errors::bad_request("the patched object is not a JSON object")
              .to_response(),
            nullptr};
  // Patches keep the object's identity; a changed name is an error.
  if (str_at(patched, {"metadata", "name"}) != old->name)
    return {errors::bad_request(
              "the name of the object (" + str_at(patched, {"metadata", "name"})
              + ") does not match the name on the URL (" + old->name + ")")
              .to_response(),
            nullptr};
  auto result
    = update_object(t, old, std::move(patched), ctx.sub, ctx.user, ctx.dry_run);
  if (auto* err = std::get_if<api_error>(&result))
    return {err->to_response(), nullptr};
  return {object_response(t, *std::get<object_ptr>(result), 200, ctx), nullptr};
}

// --- delete -----------------------------------------------------------------

outcome<object_ptr> api_impl::delete_object(const resource_type& t,
                                            object_ptr old, const json& options,
                                            bool dry_run, bool& removed) {
  removed = false;
  auto& pre = at(options, {"preconditions"});
  if (pre.is_object()) {
    auto uid = str_at(old->body, {"metadata", "uid"});
    // kube-apiserver's storage names the kind here, not the resource.
    if (auto u = pre.value("uid", json()); u.is_string() && u != uid)
      return errors::conflict(t.group, t.kind, old->name,
                              "the UID in the precondition ("
                                + u.get<std::string>()
                                + ") does not match the UID in record (" + uid
                                + "). The object might have been deleted and "
                                  "then recreated");
    auto rv = std::to_string(old->rv);
    if (auto r = pre.value("resourceVersion", json()); r.is_string() && r != rv)
      return errors::conflict(
        t.group, t.kind, old->name,
        "the ResourceVersion in the precondition (" + r.get<std::string>()
          + ") does not match the ResourceVersion in "
            "record ("
          + rv + "). The object might have been modified");
  }
  if (t.resource == "namespaces") {
    for (auto* n : immortal_namespaces)
      if (old->name == n)
        return errors::forbidden(
          "namespaces " + go_quote(old->name)
            + " is forbidden: this namespace may not be deleted",
          errors::details("", "namespaces", old->name));
    if (is_deleting(old->body))
      return old;
    auto next = old->body;
    next["metadata"]["deletionTimestamp"] = format_time(clock::now());
    next["metadata"]["deletionGracePeriodSeconds"] = 0;
    next["status"]["phase"] = "Terminating";
    if (dry_run)
      return stored_object::make(std::move(next));
    auto obj = commit(t, std::move(next));
    schedule_namespace_finalize(old->name);
    return obj;
  }
  if (t.resource == "pods") {
    // As kube-apiserver: a pod on a node ends gracefully. It gets a
    // deletionTimestamp at the end of its grace period and stays until then
    // (a real kubelet confirms sooner; devcluster has none and removes it
    // when the period ends). Its bound tokens stay valid meanwhile.
    auto grace = pod_grace_seconds(old->body, options);
    if (grace > 0 && !is_deleting(old->body)) {
      auto next = old->body;
      next["metadata"]["deletionTimestamp"]
        = format_time(clock::now() + std::chrono::seconds(grace));
      next["metadata"]["deletionGracePeriodSeconds"] = grace;
      if (dry_run)
        return stored_object::make(std::move(next));
      auto obj = commit(t, std::move(next));
      schedule_pod_removal(str_at(old->body, {"metadata", "namespace"}),
                           old->name, str_at(old->body, {"metadata", "uid"}),
                           std::chrono::seconds(grace));
      return obj;
    }
    if (grace > 0)
      return old;
  }
  if (has_finalizers(old->body)) {
    if (is_deleting(old->body))
      return old;
    auto next = old->body;
    next["metadata"]["deletionTimestamp"] = format_time(clock::now());
    next["metadata"]["deletionGracePeriodSeconds"] = 0;
    if (dry_run)
      return stored_object::make(std::move(next));
    return commit(t, std::move(next));
  }
  removed = true;
  if (dry_run)
    return old;
  return commit_remove(t, *old);
}

api_result api_impl::remove(request_ctx& ctx) {
  auto& t = *ctx.type;
  json options = json::object();
  if (!ctx.req->body.empty()) {
    auto decoded = decode_body(*ctx.req);
    if (auto* err = std::get_if<api_error>(&decoded))
      return {err->to_response(), nullptr};
    options = std::get<json>(std::move(decoded));
  }
  auto old = store.get(t, ctx.ns, ctx.name);
  if (!old)
    return {errors::not_found(t, ctx.name).to_response(), nullptr};
  bool removed = false;
  auto result = delete_object(t, old, options, ctx.dry_run, removed);
  if (auto* err = std::get_if<api_error>(&result))
    return {err->to_response(), nullptr};
  auto& obj = std::get<object_ptr>(result);
  if (!removed || t.delete_returns_object)
    return {object_response(t, *obj, 200, ctx), nullptr};
  json status{{"kind", "Status"},
              {"apiVersion", "v1"},
              {"metadata", json::object()},
              {"status", "Success"},
              {"details", errors::details(t.group, t.resource, obj->name)}};
  status["details"]["uid"] = str_at(obj->body, {"metadata", "uid"});
  return {json_response(200, status), nullptr};
}

api_result api_impl::remove_collection(request_ctx& ctx) {
  auto& t = *ctx.type;
  auto filter = make_filter(ctx);
  if (auto* err = std::get_if<api_error>(&filter))
    return {err->to_response(), nullptr};
  auto& f = std::get<object_filter>(filter);
  std::vector<object_ptr> victims;
  auto collect = [&](const object_store::name_map& m) {
    for (auto& [_, o] : m)
      if (f.matches(*o))
        victims.push_back(o);
  };
  if (t.namespaced && !ctx.ns.empty()) {
    if (auto* m = store.objects_in(t, ctx.ns))
      collect(*m);
  } else {
    for (auto& [_, m] : store.objects(t))
      collect(m);
  }
  std::vector<object_ptr> done;
  for (auto& v : victims) {
    bool removed = false;
    auto result = delete_object(t, v, json::object(), ctx.dry_run, removed);
    if (auto* obj = std::get_if<object_ptr>(&result))
      done.push_back(*obj);
  }
  std::vector<const stored_object*> items;
  for (auto& o : done)
    items.push_back(o.get());
  json meta{{"resourceVersion", std::to_string(store.resource_version())}};
  http_response r;
  r.body = list_json(t, items, meta);
  return {std::move(r), nullptr};
}

// --- writes and follow-ups
// ----------------------------------------------------

object_ptr api_impl::commit(const resource_type& t, json body) {
  bool is_namespace = t.resource == "namespaces" && t.group.empty();
  bool added = false;
  std::string name;
  if (is_namespace) {
    name = str_at(body, {"metadata", "name"});
    added = !store.get(t, "", name);
  }
  auto obj = store.put(t, std::move(body));
  if (added)
    after_namespace_created(name);
  return obj;
}

object_ptr api_impl::commit_remove(const resource_type& t,
                                   const stored_object& o,
                                   const json* final_body) {
  auto ns = o.ns;
  auto removed = store.remove(t, o.ns, o.name, final_body);
  if (t.namespaced && !ns.empty()) {
    auto ns_obj = store.get(registry.core("namespaces"), "", ns);
    if (ns_obj && is_deleting(ns_obj->body))
      schedule_namespace_finalize(ns);
  }
  return removed;
}

void api_impl::after_namespace_created(const std::string& ns) {
  // What the service-account and root-CA publisher controllers of a real
  // cluster create in every new namespace.
  create_object(registry.core("serviceaccounts"), ns,
                json{{"metadata", {{"name", "default"}}}}, admin, false);
  if (!cfg.cluster_ca_pem.empty())
    create_object(
      registry.core("configmaps"), ns,
      json{{"metadata",
            {{"name", "kube-root-ca.crt"},
             {"annotations",
              {{"kubernetes.io/description",
                "Contains a CA bundle that can be used to verify the "
                "kube-apiserver when using internal endpoints such as the "
                "internal service IP or kubernetes.default.svc. No other "
                "usage is guaranteed across distributions of Kubernetes "
                "clusters."}}}}},
           {"data", {{"ca.crt", cfg.cluster_ca_pem}}}},
      admin, false);
}

int64_t api_impl::pod_grace_seconds(const json& pod, const json& options) {
  // Unscheduled pods and pods that have ended go at once.
  if (str_at(pod, {"spec", "nodeName"}).empty())
    return 0;
  auto phase = str_at(pod, {"status", "phase"});
  if (phase == "Succeeded" || phase == "Failed")
    return 0;
  int64_t grace = 30;
  if (auto& g = at(pod, {"spec", "terminationGracePeriodSeconds"});
      g.is_number_integer())
    grace = g.get<int64_t>();
  if (auto& g = at(options, {"gracePeriodSeconds"}); g.is_number_integer())
    grace = g.get<int64_t>();
  return grace < 0 ? 0 : grace;
}

void api_impl::schedule_pod_removal(const std::string& ns,
                                    const std::string& name,
                                    const std::string& uid,
                                    std::chrono::seconds after) {
  defer(after, [this, ns, name, uid] {
    auto& t = registry.core("pods");
    auto pod = store.get(t, ns, name);
    if (!pod || str_at(pod->body, {"metadata", "uid"}) != uid
        || has_finalizers(pod->body))
      return;
    commit_remove(t, *pod);
  });
}

void api_impl::schedule_namespace_finalize(const std::string& ns) {
  if (!pending_finalize.insert(ns).second)
    return;
  defer(cfg.namespace_finalize_delay, [this, ns] {
    pending_finalize.erase(ns);
    finalize_namespace(ns);
  });
}

void api_impl::finalize_namespace(const std::string& ns) {
  auto& ns_type = registry.core("namespaces");
  auto ns_obj = store.get(ns_type, "", ns);
  if (!ns_obj || !is_deleting(ns_obj->body))
    return;
  size_t remaining = 0;
  for (auto& t : registry.all()) {
    if (!t.namespaced || !t.stored)
      continue;
    auto* m = store.objects_in(t, ns);
    if (m == nullptr)
      continue;
    std::vector<object_ptr> objs;
    for (auto& [_, o] : *m)
      objs.push_back(o);
    for (auto& o : objs) {
      if (has_finalizers(o->body)) {
        ++remaining;
        if (!is_deleting(o->body)) {
          auto next = o->body;
          next["metadata"]["deletionTimestamp"] = format_time(clock::now());
          next["metadata"]["deletionGracePeriodSeconds"] = 0;
          store.put(t, std::move(next));
        }
      } else {
        store.remove(t, ns, o->name);
      }
    }
  }
  if (remaining == 0)
    store.remove(ns_type, "", ns);
}

// --- garbage collection ------------------------------------------------

namespace {

std::vector<std::string> owner_uids(const stored_object* o) {
  std::vector<std::string> out;
  if (o == nullptr)
    return out;
  auto& refs = at(o->body, {"metadata", "ownerReferences"});
  if (refs.is_array())
    for (auto& r : refs)
      if (r.is_object() && r.contains("uid") && r["uid"].is_string())
        out.push_back(r["uid"].get<std::string>());
  return out;
}

} // namespace

void api_impl::gc_listener::on_change(const change& c) {
  api_impl::object_key key{c.type->id, c.object->ns, c.object->name};
  for (auto& uid : owner_uids(c.prev.get())) {
    auto it = api.dependents.find(uid);
    if (it != api.dependents.end()) {
      it->second.erase(key);
      if (it->second.empty())
        api.dependents.erase(it);
    }
  }
  if (c.kind == change_type::deleted) {
    auto uid = str_at(c.object->body, {"metadata", "uid"});
    if (api.dependents.count(uid))
      // Background propagation, after the owner is gone.
      api.defer(std::chrono::milliseconds{0},
                [a = &api, uid] { a->collect_dependents(uid); });
    return;
  }
  for (auto& uid : owner_uids(c.object.get()))
    api.dependents[uid].insert(key);
}

void api_impl::collect_dependents(const std::string& owner_uid) {
  auto it = dependents.find(owner_uid);
  if (it == dependents.end())
    return;
  auto keys = it->second;
  for (auto& k : keys) {
    auto& t = registry.all()[k.type];
    auto obj = store.get(t, k.ns, k.name);
    if (!obj)
      continue;
    auto uids = owner_uids(obj.get());
    if (std::find(uids.begin(), uids.end(), owner_uid) == uids.end())
      continue;
    bool removed = false;
    delete_object(t, obj, json::object(), false, removed);
  }
}

// --- admission
// ----------------------------------------------------------------

std::optional<api_error> api_impl::admit(const resource_type& t, json& obj,
                                         const stored_object* old,
                                         const user_info& user) {
  auto& meta = obj["metadata"];
  auto name = meta.value("name", "");
  std::vector<field_cause> causes;
  // Labels and annotations: maps of strings.
  for (auto* key : {"labels", "annotations"}) {
    auto it = meta.find(key);
    if (it == meta.end() || it->is_null())
      continue;
    if (!it->is_object())
      return errors::bad_request(
        std::string("json: cannot unmarshal into Go "
                    "struct field ObjectMeta.metadata.")
        + key + " of type map[string]string");
    for (auto& [k, v] : it->items())
      if (!v.is_string())
        return errors::bad_request(
          std::string("json: cannot unmarshal ") + v.type_name()
          + " into Go struct field ObjectMeta.metadata." + key
          + " of type string");
  }
  if (t.resource == "namespaces")
    meta["labels"]["kubernetes.io/metadata.name"] = name;
  if (auto it = meta.find("labels"); it != meta.end() && it->is_object()) {
    for (auto& [k, v] : it->items()) {
      for (auto& e : kube::qualified_name_errors(k))
        causes.push_back(errors::invalid_value("metadata.labels", k, e));
      auto value = v.get<std::string>();
      for (auto& e : kube::label_value_errors(value))
        causes.push_back(errors::invalid_value("metadata.labels", value, e));
    }
  }
  if (auto it = meta.find("annotations"); it != meta.end() && it->is_object()) {
    std::map<std::string, std::string> annotations;
    for (auto& [k, v] : it->items())
      annotations.emplace(k, v.get<std::string>());
    const std::string prefix = "metadata.annotations: ";
    for (auto& e : kube::annotations_errors(annotations)) {
      auto msg = e.rfind(prefix, 0) == 0 ? e.substr(prefix.size()) : e;
      causes.push_back({"FieldValueInvalid", msg, "metadata.annotations"});
    }
  }
  if (auto it = meta.find("finalizers"); it != meta.end() && !it->is_null()) {
    if (!it->is_array())
      return errors::bad_request("metadata.finalizers must be a list");
    for (auto& f : *it)
      if (!f.is_string())
        return errors::bad_request("metadata.finalizers must be strings");
  }
  auto& r = t.resource;
  if (t.group.empty() && r == "namespaces") {
    if (!old) {
      obj["spec"]["finalizers"] = json::array({"kubernetes"});
      obj["status"] = {{"phase", "Active"}};
    }
  } else if (t.group.empty() && (r == "configmaps" || r == "secrets")) {
    if (r == "secrets") {
      if (auto sd = obj.find("stringData"); sd != obj.end()) {
        if (!sd->is_null() && !sd->is_object())
          return errors::bad_request("stringData must be a map of strings");
        if (sd->is_object())
          for (auto& [k, v] : sd->items()) {
            if (!v.is_string())
              return errors::bad_request("stringData values must be strings");
            obj["data"][k] = base64_encode(v.get<std::string>());
          }
        obj.erase("stringData");
      }
      auto type = obj.value("type", json());
      if (type.is_null() || type == "") {
        obj["type"] = old ? old->body.value("type", "Opaque") : "Opaque";
      } else if (!type.is_string()) {
        return errors::bad_request("type must be a string");
      }
      if (old && obj["type"] != old->body.value("type", "Opaque"))
        causes.push_back(errors::invalid_value(
          "type", obj["type"].get<std::string>(), "field is immutable"));
    }
    for (auto* key : {"data", "binaryData"}) {
      auto it = obj.find(key);
      if (it == obj.end() || it->is_null())
        continue;
      if (!it->is_object())
        return errors::bad_request(std::string(key)
                                   + " must be a map of strings");
      bool base64 = r == "secrets" || std::string_view(key) == "binaryData";
      for (auto& [k, v] : it->items()) {
        if (!v.is_string())
          return errors::bad_request(std::string("json: cannot unmarshal ")
                                     + v.type_name() + " into Go value of type "
                                     + (base64 ? "[]uint8" : "string"));
        if (base64 && !base64_decode(v.get<std::string>()))
          return errors::bad_request(
            t.kind + " in version \"v1\" cannot be handled as a " + t.kind
            + ": illegal base64 data at input byte 0");
        if (auto e = config_key_error(k))
          causes.push_back(
            errors::invalid_value(std::string(key) + "[" + k + "]", k, *e));
      }
    }
    if (r == "secrets" && obj.value("type", "") == "kubernetes.io/tls") {
      for (auto* k : {"tls.crt", "tls.key"})
        if (!at(obj, {"data", k}).is_string())
          causes.push_back(
            errors::required_value(std::string("data[") + k + "]", ""));
    }
  } else if (t.group.empty() && r == "pods") {
    auto& spec = obj["spec"];
    if (!spec.is_object())
      return errors::bad_request("spec must be an object");
    auto& containers = spec["containers"];
    if (!containers.is_array() || containers.empty()) {
      causes.push_back(errors::required_value("spec.containers", ""));
    } else {
      for (size_t i = 0; i < containers.size(); ++i) {
        auto& c = containers[i];
        auto field = "spec.containers[" + std::to_string(i) + "]";
        if (!c.is_object()) {
          causes.push_back(errors::required_value(field, ""));
          continue;
        }
        if (c.value("name", "").empty())
          causes.push_back(errors::required_value(field + ".name", ""));
        if (c.value("image", "").empty())
          causes.push_back(errors::required_value(field + ".image", ""));
        if (!old) {
          auto image = c.value("image", "");
          auto tag_pos = image.find_last_of(":/");
          bool latest = tag_pos == std::string::npos || image[tag_pos] == '/'
                        || image.substr(tag_pos + 1) == "latest";
          if (!c.contains("imagePullPolicy"))
            c["imagePullPolicy"] = latest ? "Always" : "IfNotPresent";
          if (!c.contains("terminationMessagePath"))
            c["terminationMessagePath"] = "/dev/termination-log";
          if (!c.contains("terminationMessagePolicy"))
            c["terminationMessagePolicy"] = "File";
          if (!c.contains("resources"))
            c["resources"] = json::object();
        }
      }
    }
    if (!old) {
      auto sa = spec.value("serviceAccountName", "");
      if (sa.empty())
        sa = spec.value("serviceAccount", "");
      if (sa.empty())
        sa = "default";
      spec["serviceAccountName"] = sa;
      spec["serviceAccount"] = sa;
      auto defaults = json{{"restartPolicy", "Always"},
                           {"terminationGracePeriodSeconds", 30},
                           {"dnsPolicy", "ClusterFirst"},
                           {"securityContext", json::object()},
                           {"schedulerName", "default-scheduler"},
                           {"enableServiceLinks", true},
                           {"preemptionPolicy", "PreemptLowerPriority"},
                           {"priority", 0}};
      for (auto& [k, v] : defaults.items())
        if (!spec.contains(k))
          spec[k] = v;
      obj["status"] = {{"phase", "Pending"}, {"qosClass", "BestEffort"}};
      if (causes.empty()
          && !store.get(registry.core("serviceaccounts"),
                        meta.value("namespace", ""), sa))
        return errors::forbidden(
          "pods " + go_quote(name)
            + " is forbidden: error looking up service account "
            + meta.value("namespace", "") + "/" + sa + ": serviceaccount "
            + go_quote(sa) + " not found",
          errors::details("", "pods", name));
    }
  } else if (t.group == "coordination.k8s.io" && r == "leases") {
    auto& spec = obj["spec"];
    if (spec.is_null())
      spec = json::object();
    for (auto* key : {"acquireTime", "renewTime"}) {
      auto it = spec.find(key);
      if (it == spec.end() || it->is_null())
        continue;
      auto parsed
        = it->is_string() ? parse_time(it->get<std::string>()) : std::nullopt;
      if (!parsed)
        return errors::bad_request(std::string("Lease in version \"v1\" cannot "
                                               "be handled as a Lease: "
                                               "invalid time in spec.")
                                   + key);
      *it = format_micro_time(*parsed);
    }
  } else if (t.group == "cert-manager.io" && r == "certificaterequests") {
    auto& spec = obj["spec"];
    if (!spec.is_object())
      spec = json::object();
    check_key_usages(spec, causes);
    std::vector<std::string> denied;
    if (!old) {
      // cert-manager's webhook records who asked, and rejects claims of
      // another identity.
      auto check = [&](const char* field, const json& want) {
        auto it = spec.find(field);
        auto blank = [](const json& j) {
          return j.is_null() || (j.is_string() && j.get<std::string>().empty())
                 || ((j.is_array() || j.is_object()) && j.empty());
        };
        if (it != spec.end() && !blank(*it) && *it != want)
          denied.push_back(std::string("spec.") + field + ": Forbidden: "
                           + field + " identity must be that of the requester");
        if (want.is_null())
          spec.erase(field);
        else
          spec[field] = want;
      };
      check("uid", user.uid.empty() ? json() : json(user.uid));
      check("username", user.name.empty() ? json() : json(user.name));
      check("groups", user.groups.empty() ? json() : json(user.groups));
      check("extra", user.extra.empty() ? json() : json(user.extra));
      auto request = spec.value("request", json());
      std::optional<std::string> pem;
      if (request.is_string())
        pem = base64_decode(request.get<std::string>());
      if (!request.is_string() || request.get<std::string>().empty())
        denied.push_back("spec.request: Required value: must be specified");
      else if (!pem || !pki::csr::from_pem(*pem)) {
        // cert-manager: field.Invalid(spec.request, []byte, "failed to
        // decode csr: ...")
        std::string bytes = "[]byte{";
        auto raw = pem ? *pem : request.get<std::string>();
        static constexpr char hexd[] = "0123456789abcdef";
        for (size_t i = 0; i < raw.size(); ++i) {
          auto c = static_cast<unsigned char>(raw[i]);
          bytes += (i ? ", 0x" : "0x");
          bytes += hexd[c >> 4];
          bytes += hexd[c & 0xf];
        }
        bytes += "}";
        denied.push_back("spec.request: Invalid value: " + bytes
                         + ": failed to decode csr: error decoding "
                           "certificate request PEM block");
      }
      if (str_at(spec, {"issuerRef", "name"}).empty())
        denied.push_back(
          "spec.issuerRef.name: Required value: must be specified");
    } else if (obj.value("spec", json()) != old->body.value("spec", json())) {
      denied.push_back("spec: Forbidden: field is immutable");
    }
    if (!denied.empty())
      return webhook_denied(denied);
  } else if (t.group == "cert-manager.io" && r == "certificates"
             && obj.value("spec", json()).is_object()) {
    check_key_usages(obj["spec"], causes);
  }
  if (!causes.empty())
    return errors::invalid(t, name, causes);
  return std::nullopt;
}

} // namespace istio_csr::devcluster
