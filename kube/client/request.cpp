#include "kube/client/request.hpp"

#include "kube/api/object.hpp"

namespace istio_csr::kube {

std::string to_string(verb v) {
  switch (v) {
    case verb::get: return "get";
    case verb::list: return "list";
    case verb::create: return "create";
    case verb::update: return "update";
    case verb::patch: return "patch";
    case verb::remove: return "delete";
    case verb::watch: return "watch";
  }
  return "?";
}

request request::get(const resource& res, std::string namespace_,
                     std::string name) {
  request r;
  r.method = verb::get;
  r.res = res;
  r.namespace_ = std::move(namespace_);
  r.name = std::move(name);
  return r;
}

request request::list_of(const resource& res, std::string namespace_,
                         list_options opts) {
  request r;
  r.method = verb::list;
  r.res = res;
  r.namespace_ = std::move(namespace_);
  r.list = std::move(opts);
  return r;
}

request request::list_all(const resource& res, std::string namespace_,
                          list_options opts) {
  if (opts.limit <= 0)
    opts.limit = 500;
  auto r = list_of(res, std::move(namespace_), std::move(opts));
  r.all_pages = true;
  return r;
}

request request::create(const resource& res, std::string namespace_,
                        nlohmann::json object) {
  request r;
  r.method = verb::create;
  r.res = res;
  if (namespace_.empty())
    namespace_ = object_ref{object}.namespace_();
  r.namespace_ = std::move(namespace_);
  r.body = std::move(object);
  return r;
}

request request::create_subresource(const resource& res, std::string namespace_,
                                    std::string name, std::string subresource,
                                    nlohmann::json object) {
  auto r = create(res, std::move(namespace_), std::move(object));
  r.name = std::move(name);
  r.subresource = std::move(subresource);
  return r;
}

request request::update(const resource& res, nlohmann::json object) {
  request r;
  r.method = verb::update;
  r.res = res;
  object_ref ref{object};
  r.namespace_ = ref.namespace_();
  r.name = ref.name();
  r.body = std::move(object);
  return r;
}

request request::update_status(const resource& res, nlohmann::json object) {
  auto r = update(res, std::move(object));
  r.subresource = "status";
  return r;
}

request request::merge_patch(const resource& res, std::string namespace_,
                             std::string name, nlohmann::json patch,
                             std::string subresource) {
  request r;
  r.method = verb::patch;
  r.res = res;
  r.namespace_ = std::move(namespace_);
  r.name = std::move(name);
  r.subresource = std::move(subresource);
  r.body = std::move(patch);
  return r;
}

request request::remove(const resource& res, std::string namespace_,
                        std::string name, delete_options opts) {
  request r;
  r.method = verb::remove;
  r.res = res;
  r.namespace_ = std::move(namespace_);
  r.name = std::move(name);
  r.del = std::move(opts);
  return r;
}

request request::watch(const resource& res, std::string namespace_,
                       list_options opts) {
  request r;
  r.method = verb::watch;
  r.res = res;
  r.namespace_ = std::move(namespace_);
  r.list = std::move(opts);
  return r;
}

request request::raw(verb method, std::string path, nlohmann::json body) {
  request r;
  r.method = method;
  r.raw_path = std::move(path);
  r.body = std::move(body);
  return r;
}

std::string_view request::http_method() const {
  switch (method) {
    case verb::get:
    case verb::list:
    case verb::watch: return "GET";
    case verb::create: return "POST";
    case verb::update: return "PUT";
    case verb::patch: return "PATCH";
    case verb::remove: return "DELETE";
  }
  return "GET";
}

namespace {

void add_param(std::string& query, std::string_view key,
               std::string_view value) {
  query += query.empty() ? '?' : '&';
  query += key;
  query += '=';
  query += url_encode(value);
}

} // namespace

std::string request::target() const {
  if (!raw_path.empty())
    return raw_path;
  std::string path;
  switch (method) {
    case verb::list:
    case verb::watch: path = res.collection_path(namespace_); break;
    case verb::create:
      path = name.empty() ? res.collection_path(namespace_)
                          : res.object_path(namespace_, name, subresource);
      break;
    default: path = res.object_path(namespace_, name, subresource);
  }
  std::string query;
  if (method == verb::list || method == verb::watch) {
    if (method == verb::watch)
      add_param(query, "watch", "true");
    if (!list.label_selector.empty())
      add_param(query, "labelSelector", list.label_selector);
    if (!list.field_selector.empty())
      add_param(query, "fieldSelector", list.field_selector);
    if (method == verb::list && list.limit > 0)
      add_param(query, "limit", std::to_string(list.limit));
    if (method == verb::list && !list.continue_token.empty())
      add_param(query, "continue", list.continue_token);
    if (!list.resource_version.empty())
      add_param(query, "resourceVersion", list.resource_version);
    if (!list.resource_version_match.empty())
      add_param(query, "resourceVersionMatch", list.resource_version_match);
    if (method == verb::watch) {
      if (list.timeout_seconds)
        add_param(query, "timeoutSeconds",
                  std::to_string(*list.timeout_seconds));
      if (list.allow_watch_bookmarks)
        add_param(query, "allowWatchBookmarks", "true");
    }
  }
  if (!field_manager.empty()
      && (method == verb::create || method == verb::update
          || method == verb::patch))
    add_param(query, "fieldManager", field_manager);
  return path + query;
}

std::string request::body_text() const {
  switch (method) {
    case verb::create:
    case verb::update:
    case verb::patch: return body.is_null() ? std::string{} : body.dump();
    case verb::remove: {
      if (!raw_path.empty())
        return body.is_null() ? std::string{} : body.dump();
      auto opts = nlohmann::json::object();
      auto pre = nlohmann::json::object();
      if (!del.uid.empty())
        pre["uid"] = del.uid;
      if (!del.resource_version.empty())
        pre["resourceVersion"] = del.resource_version;
      if (!pre.empty())
        opts["preconditions"] = std::move(pre);
      if (!del.propagation_policy.empty())
        opts["propagationPolicy"] = del.propagation_policy;
      if (del.grace_period_seconds)
        opts["gracePeriodSeconds"] = *del.grace_period_seconds;
      if (opts.empty())
        return {};
      opts["kind"] = "DeleteOptions";
      opts["apiVersion"] = "v1";
      return opts.dump();
    }
    default: return {};
  }
}

std::string_view request::content_type() const {
  if (method == verb::patch)
    return "application/merge-patch+json";
  return "application/json";
}

namespace {

bool has_fixed_name(const nlohmann::json& body) {
  if (!body.is_object())
    return false;
  auto meta = body.find("metadata");
  if (meta == body.end() || !meta->is_object())
    return false;
  auto name = meta->find("name");
  return name != meta->end() && name->is_string()
         && !name->get_ref<const std::string&>().empty();
}

} // namespace

bool request::idempotent() const {
  switch (method) {
    case verb::get:
    case verb::list:
    case verb::watch: return true;
    case verb::create:
      return res.create_is_idempotent || subresource == "token"
             || (repeatable_create && has_fixed_name(body));
    default: return false;
  }
}

} // namespace istio_csr::kube
