#include "devcluster/tables.hpp"

#include "devcluster/util.hpp"

namespace istio_csr::devcluster {

namespace {

using json = nlohmann::json;

const json& at_path(const json& obj, std::initializer_list<const char*> path) {
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

std::string str(const json& j) {
  return j.is_string() ? j.get<std::string>() : std::string{};
}

// `.status.conditions[?(@.type==X)].FIELD`
std::string condition(const json& obj, const std::string& type,
                      const char* field) {
  auto& conds = at_path(obj, {"status", "conditions"});
  if (!conds.is_array())
    return "";
  for (auto& c : conds)
    if (c.is_object() && c.value("type", "") == type)
      return str(c.value(field, json()));
  return "";
}

std::string age(const json& obj, std::chrono::system_clock::time_point now) {
  auto created
    = parse_time(str(at_path(obj, {"metadata", "creationTimestamp"})));
  if (!created)
    return "<unknown>";
  return human_duration(
    std::chrono::duration_cast<std::chrono::seconds>(now - *created));
}

int64_t count_keys(const json& j) {
  return j.is_object() ? static_cast<int64_t>(j.size()) : 0;
}

} // namespace

std::string object_json(const resource_type& t, const stored_object& o) {
  std::string out
    = R"({"apiVersion":")" + t.api_version() + R"(","kind":")" + t.kind + "\"";
  if (o.json.size() > 2)
    out += "," + o.json.substr(1);
  else
    out += "}";
  return out;
}

json partial_metadata(const stored_object& o) {
  return {{"kind", "PartialObjectMetadata"},
          {"apiVersion", "meta.k8s.io/v1"},
          {"metadata", o.body.value("metadata", json::object())}};
}

table_builder::table_builder(const resource_type& t) : type_(t) {
  const std::string name_desc
    = "Name must be unique within a namespace. Is required when creating "
      "resources, although some resources may allow a client to request the "
      "generation of an appropriate name automatically. Name is primarily "
      "intended for creation idempotence and configuration definition. "
      "Cannot be updated. More info: "
      "https://kubernetes.io/docs/concepts/overview/working-with-objects/"
      "names#names";
  const std::string age_desc
    = "CreationTimestamp is a timestamp representing the server time when "
      "this object was created.";
  auto add = [&](std::string name, std::string type = "string",
                 int priority = 0, std::string format = "") {
    columns_.push_back(
      {std::move(name), std::move(type), std::move(format), priority, ""});
  };
  if (t.resource == "events") {
    add("Last Seen");
    add("Type");
    add("Reason");
    add("Object");
    add("Message");
    return;
  }
  columns_.push_back({"Name", "string", "name", 0, name_desc});
  if (t.resource == "namespaces") {
    add("Status");
  } else if (t.resource == "configmaps") {
    add("Data", "integer");
  } else if (t.resource == "secrets") {
    add("Type");
    add("Data", "integer");
  } else if (t.resource == "pods") {
    add("Ready");
    add("Status");
    add("Restarts", "string");
  } else if (t.resource == "serviceaccounts") {
    add("Secrets", "integer");
  } else if (t.resource == "leases") {
    add("Holder");
  } else if (t.resource == "certificaterequests") {
    add("Approved");
    add("Denied");
    add("Ready");
    add("Issuer");
    add("Requester");
    add("Status", "string", 1);
  } else if (t.resource == "certificates") {
    add("Ready");
    add("Secret");
    add("Issuer", "string", 1);
    add("Status", "string", 1);
  } else if (t.resource == "issuers" || t.resource == "clusterissuers") {
    add("Ready");
    add("Status", "string", 1);
  }
  columns_.push_back({"Age", "string", "", 0, age_desc});
  if (t.resource == "pods") {
    add("IP", "string", 1);
    add("Node", "string", 1);
    add("Nominated Node", "string", 1);
    add("Readiness Gates", "string", 1);
  }
}

json table_builder::cells(const json& obj,
                          std::chrono::system_clock::time_point now) const {
  auto& r = type_.resource;
  std::string name = str(at_path(obj, {"metadata", "name"}));
  if (r == "events") {
    auto last = str(obj.value("lastTimestamp", json()));
    if (last.empty())
      last = str(obj.value("eventTime", json()));
    auto t = parse_time(last);
    auto& io = at_path(obj, {"involvedObject"});
    std::string kind = str(at_path(io, {"kind"}));
    for (auto& c : kind)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return json::array(
      {t ? human_duration(
         std::chrono::duration_cast<std::chrono::seconds>(now - *t))
         : "<unknown>",
       str(obj.value("type", json())), str(obj.value("reason", json())),
       kind + "/" + str(at_path(io, {"name"})),
       str(obj.value("message", json()))});
  }
  json row = json::array({name});
  if (r == "namespaces") {
    row.push_back(str(at_path(obj, {"status", "phase"})));
  } else if (r == "configmaps") {
    row.push_back(count_keys(obj.value("data", json()))
                  + count_keys(obj.value("binaryData", json())));
  } else if (r == "secrets") {
    row.push_back(str(obj.value("type", json())));
    row.push_back(count_keys(obj.value("data", json())));
  } else if (r == "pods") {
    auto& containers = at_path(obj, {"spec", "containers"});
    size_t total = containers.is_array() ? containers.size() : 0;
    size_t ready = 0;
    auto& statuses = at_path(obj, {"status", "containerStatuses"});
    if (statuses.is_array())
      for (auto& s : statuses)
        if (s.value("ready", false))
          ++ready;
    row.push_back(std::to_string(ready) + "/" + std::to_string(total));
    auto phase = str(at_path(obj, {"status", "phase"}));
    if (!at_path(obj, {"metadata", "deletionTimestamp"}).is_null())
      phase = "Terminating";
    row.push_back(phase);
    row.push_back("0");
  } else if (r == "serviceaccounts") {
    auto secrets = obj.value("secrets", json());
    row.push_back(secrets.is_array() ? static_cast<int64_t>(secrets.size())
                                     : 0);
  } else if (r == "leases") {
    row.push_back(str(at_path(obj, {"spec", "holderIdentity"})));
  } else if (r == "certificaterequests") {
    row.push_back(condition(obj, "Approved", "status"));
    row.push_back(condition(obj, "Denied", "status"));
    row.push_back(condition(obj, "Ready", "status"));
    row.push_back(str(at_path(obj, {"spec", "issuerRef", "name"})));
    row.push_back(str(at_path(obj, {"spec", "username"})));
    row.push_back(condition(obj, "Ready", "message"));
  } else if (r == "certificates") {
    row.push_back(condition(obj, "Ready", "status"));
    row.push_back(str(at_path(obj, {"spec", "secretName"})));
    row.push_back(str(at_path(obj, {"spec", "issuerRef", "name"})));
    row.push_back(condition(obj, "Ready", "message"));
  } else if (r == "issuers" || r == "clusterissuers") {
    row.push_back(condition(obj, "Ready", "status"));
    row.push_back(condition(obj, "Ready", "message"));
  }
  row.push_back(age(obj, now));
  if (r == "pods") {
    auto ip = str(at_path(obj, {"status", "podIP"}));
    auto node = str(at_path(obj, {"spec", "nodeName"}));
    row.push_back(ip.empty() ? "<none>" : ip);
    row.push_back(node.empty() ? "<none>" : node);
    row.push_back("<none>");
    row.push_back("<none>");
  }
  return row;
}

json table_builder::table(const std::vector<const stored_object*>& objects,
                          const std::string& list_rv, include_object include,
                          std::chrono::system_clock::time_point now,
                          bool with_columns) const {
  json cols = json::array();
  if (with_columns)
    for (auto& c : columns_)
      cols.push_back({{"name", c.name},
                      {"type", c.type},
                      {"format", c.format},
                      {"description", c.description},
                      {"priority", c.priority}});
  json rows = json::array();
  for (auto* o : objects) {
    json row{{"cells", cells(o->body, now)}};
    if (include == include_object::metadata)
      row["object"] = partial_metadata(*o);
    else if (include == include_object::object) {
      auto full = o->body;
      full["apiVersion"] = type_.api_version();
      full["kind"] = type_.kind;
      row["object"] = std::move(full);
    }
    rows.push_back(std::move(row));
  }
  json meta = json::object();
  if (!list_rv.empty())
    meta["resourceVersion"] = list_rv;
  return {{"kind", "Table"},
          {"apiVersion", "meta.k8s.io/v1"},
          {"metadata", meta},
          {"columnDefinitions", with_columns ? cols : json(nullptr)},
          {"rows", rows}};
}

} // namespace istio_csr::devcluster
