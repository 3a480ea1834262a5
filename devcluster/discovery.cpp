#include "devcluster/discovery.hpp"

#include "devcluster/crypto.hpp"

namespace istio_csr::devcluster {

namespace {

using json = nlohmann::json;

std::string gv_path_of(const resource_type& t) {
  return t.group.empty() ? "api/" + t.version
                         : "apis/" + t.group + "/" + t.version;
}

json group_version(const std::string& group, const std::string& version) {
  return {{"groupVersion", group + "/" + version}, {"version", version}};
}

} // namespace

discovery::discovery(const resource_registry& registry,
                     std::string server_address)
  : registry_(registry), server_address_(std::move(server_address)) {}

json discovery::version() {
  return {{"major", "1"},
          {"minor", "32"},
          {"gitVersion", "v1.32.0-devcluster"},
          {"gitCommit", "0000000000000000000000000000000000000000"},
          {"gitTreeState", "clean"},
          {"buildDate", "2025-01-01T00:00:00Z"},
          {"goVersion", "go1.23.0"},
          {"compiler", "gc"},
          {"platform", "linux/amd64"}};
}

json discovery::core_versions() const {
  return {
    {"kind", "APIVersions"},
    {"versions", {"v1"}},
    {"serverAddressByClientCIDRs",
     {{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", server_address_}}}}};
}

json discovery::group(const std::string& name) const {
  for (auto& t : registry_.all()) {
    if (t.group != name || name.empty())
      continue;
    auto gv = group_version(t.group, t.version);
    return {{"kind", "APIGroup"},
            {"apiVersion", "v1"},
            {"name", name},
            {"versions", {gv}},
            {"preferredVersion", gv}};
  }
  return nullptr;
}

json discovery::group_list() const {
  json groups = json::array();
  for (auto& g : registry_.groups()) {
    auto doc = group(g);
    doc.erase("kind");
    doc.erase("apiVersion");
    groups.push_back(std::move(doc));
  }
  return {{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", groups}};
}

json discovery::resource_entry(const resource_type& t) const {
  json r{{"name", t.resource},
         {"singularName", t.singular},
         {"namespaced", t.namespaced},
         {"kind", t.kind},
         {"verbs", t.verbs}};
  if (!t.short_names.empty())
    r["shortNames"] = t.short_names;
  if (!t.categories.empty())
    r["categories"] = t.categories;
  r["storageVersionHash"]
    = base64_encode(sha256(t.group + "/" + t.version + "/" + t.kind))
        .substr(0, 11);
  return r;
}

json discovery::resource_list(const std::string& group,
                              const std::string& version) const {
  json resources = json::array();
  bool found = false;
  for (auto& t : registry_.all()) {
    if (t.group != group || t.version != version)
      continue;
    found = true;
    resources.push_back(resource_entry(t));
    for (auto& s : t.subresources) {
      json r{{"name", t.resource + "/" + s.name},
             {"singularName", ""},
             {"namespaced", t.namespaced},
             {"kind", s.kind},
             {"verbs", s.verbs}};
      if (s.group != t.group) {
        r["group"] = s.group;
        r["version"] = s.version;
      }
      resources.push_back(std::move(r));
    }
  }
  if (!found)
    return nullptr;
  json out{{"kind", "APIResourceList"},
           {"groupVersion", group.empty() ? version : group + "/" + version},
           {"resources", resources}};
  if (!group.empty())
    out["apiVersion"] = "v1";
  return out;
}

json discovery::aggregated(bool core, const std::string& api_version) const {
  // group -> resources, in registry order
  std::vector<std::pair<std::string, json>> groups;
  for (auto& t : registry_.all()) {
    if (core != t.group.empty())
      continue;
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](auto& g) { return g.first == t.group; });
    if (it == groups.end()) {
      groups.emplace_back(t.group, json::array());
      it = std::prev(groups.end());
    }
    json r{{"resource", t.resource},
           {"responseKind", {{"group", ""}, {"version", ""}, {"kind", t.kind}}},
           {"scope", t.namespaced ? "Namespaced" : "Cluster"},
           {"singularResource", t.singular},
           {"verbs", t.verbs}};
    if (!t.short_names.empty())
      r["shortNames"] = t.short_names;
    if (!t.categories.empty())
      r["categories"] = t.categories;
    if (!t.subresources.empty()) {
      json subs = json::array();
      for (auto& s : t.subresources) {
        json kind{{"group", s.group == t.group ? "" : s.group},
                  {"version", s.group == t.group ? "" : s.version},
                  {"kind", s.kind}};
        subs.push_back({{"subresource", s.name},
                        {"responseKind", kind},
                        {"verbs", s.verbs}});
      }
      r["subresources"] = std::move(subs);
    }
    it->second.push_back(std::move(r));
  }
  json items = json::array();
  for (auto& [name, resources] : groups) {
    json meta{{"creationTimestamp", nullptr}};
    if (!name.empty())
      meta["name"] = name;
    items.push_back({{"metadata", meta},
                     {"versions",
                      {{{"version", "v1"},
                        {"resources", resources},
                        {"freshness", "Current"}}}}});
  }
  return {{"kind", "APIGroupDiscoveryList"},
          {"apiVersion", api_version},
          {"metadata", json::object()},
          {"items", items}};
}

json discovery::openapi_index() const {
  json paths = json::object();
  for (auto& t : registry_.all()) {
    auto p = gv_path_of(t);
    if (paths.contains(p))
      continue;
    auto hash
      = base64url_encode(sha256(openapi_document(p).dump())).substr(0, 16);
    paths[p] = {{"serverRelativeURL", "/openapi/v3/" + p + "?hash=" + hash}};
  }
  return {{"paths", paths}};
}

json discovery::openapi_document(const std::string& gv_path) const {
  // Just enough for kubectl: each resource's PATCH operation with its
  // group/version/kind and the fieldValidation query parameter, so that
  // `kubectl create -f` uses server-side field validation.
  json paths = json::object();
  bool found = false;
  for (auto& t : registry_.all()) {
    if (gv_path_of(t) != gv_path)
      continue;
    found = true;
    std::string base = "/" + gv_path + "/";
    if (t.namespaced)
      base += "namespaces/{namespace}/";
    json gvk{{"group", t.group}, {"version", t.version}, {"kind", t.kind}};
    json params = json::array(
      {{{"name", "fieldValidation"},
        {"in", "query"},
        {"description", "fieldValidation instructs the server on how to "
                        "handle objects in the request containing unknown "
                        "or duplicate fields."},
        {"schema", {{"type", "string"}, {"uniqueItems", true}}}},
       {{"name", "dryRun"},
        {"in", "query"},
        {"schema", {{"type", "string"}, {"uniqueItems", true}}}},
       {{"name", "fieldManager"},
        {"in", "query"},
        {"schema", {{"type", "string"}, {"uniqueItems", true}}}}});
    json responses{{"200", {{"description", "OK"}}}};
    json op{{"operationId", "op" + t.kind},
            {"parameters", params},
            {"responses", responses},
            {"x-kubernetes-action", "patch"},
            {"x-kubernetes-group-version-kind", gvk}};
    json post = op;
    post["x-kubernetes-action"] = "post";
    if (t.verbs.size() > 1 || t.verbs[0] != "create") {
      paths[base + t.resource + "/{name}"] = {{"patch", op}, {"put", op}};
    }
    paths[base + t.resource] = {{"post", post}};
  }
  if (!found)
    return nullptr;
  return {{"openapi", "3.0.0"},
          {"info", {{"title", "Kubernetes"}, {"version", "v1.32.0"}}},
          {"paths", paths},
          {"components", {{"schemas", json::object()}}}};
}

} // namespace istio_csr::devcluster
