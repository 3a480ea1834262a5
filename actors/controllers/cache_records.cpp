#include "actors/controllers/cache_records.hpp"

#include <string>

namespace istio_csr::actors::controllers {

namespace {

using nlohmann::json;

constexpr char separator = '\x1f';

/// Moves `from[key]` into `to[key]` when present.
void keep(json& from, json& to, const char* key) {
  if (auto i = from.find(key); i != from.end())
    to[key] = std::move(*i);
}

/// `obj.metadata[key]` when it is a string, else empty.
std::string metadata_string(const json& obj, const char* key) {
  auto meta = obj.find("metadata");
  if (meta == obj.end() || !meta->is_object())
    return {};
  auto i = meta->find(key);
  return i != meta->end() && i->is_string() ? i->get<std::string>()
                                            : std::string{};
}

} // namespace

json make_record(std::string_view key, const json& object) {
  // Parsed objects hold valid UTF-8; `replace` only keeps a transform on
  // the client's thread from ever throwing.
  auto text = object.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string record;
  record.reserve(key.size() + 1 + text.size());
  record.append(key).push_back(separator);
  record.append(text);
  return json(std::move(record));
}

std::string_view record_key(const json& record) {
  if (!record.is_string())
    return {};
  std::string_view text = record.get_ref<const std::string&>();
  auto at = text.find(separator);
  return at == std::string_view::npos ? std::string_view{} : text.substr(0, at);
}

std::optional<json> read_record(const json& record) {
  if (!record.is_string())
    return std::nullopt;
  std::string_view text = record.get_ref<const std::string&>();
  auto at = text.find(separator);
  if (at == std::string_view::npos)
    return std::nullopt;
  auto obj = json::parse(text.substr(at + 1), nullptr, false);
  if (obj.is_discarded() || !obj.is_object())
    return std::nullopt;
  return obj;
}

json compact_namespace(json ns) {
  if (!ns.is_object())
    return ns;
  json result = json::object();
  if (auto meta = ns.find("metadata"); meta != ns.end() && meta->is_object()) {
    json& m = result["metadata"] = json::object();
    for (auto* key : {"name", "labels", "deletionTimestamp"})
      keep(*meta, m, key);
  }
  if (auto status = ns.find("status");
      status != ns.end() && status->is_object()) {
    json s = json::object();
    keep(*status, s, "phase");
    if (!s.empty())
      result["status"] = std::move(s);
  }
  return result;
}

json make_namespace_record(json ns) {
  auto name = metadata_string(ns, "name");
  return make_record(name, compact_namespace(std::move(ns)));
}

json make_config_map_record(json config_map) {
  if (auto meta = config_map.find("metadata");
      meta != config_map.end() && meta->is_object())
    meta->erase("managedFields");
  return make_record(metadata_string(config_map, "namespace"), config_map);
}

} // namespace istio_csr::actors::controllers
