#include "kube/api/object.hpp"

namespace istio_csr::kube {

namespace {

const std::string empty_string;

} // namespace

const nlohmann::json* member_at(const nlohmann::json& obj,
                                std::initializer_list<std::string_view> path) {
  const nlohmann::json* cur = &obj;
  for (auto key : path) {
    if (!cur->is_object())
      return nullptr;
    auto i = cur->find(key);
    if (i == cur->end())
      return nullptr;
    cur = &*i;
  }
  return cur;
}

const std::string& string_at(const nlohmann::json& obj,
                             std::initializer_list<std::string_view> path) {
  auto member = member_at(obj, path);
  if (member == nullptr || !member->is_string())
    return empty_string;
  return member->get_ref<const std::string&>();
}

std::map<std::string, std::string> string_map(const nlohmann::json* member) {
  std::map<std::string, std::string> result;
  if (member == nullptr || !member->is_object())
    return result;
  for (auto& [key, value] : member->items())
    if (value.is_string())
      result.emplace(key, value.get<std::string>());
  return result;
}

int64_t object_ref::generation() const {
  auto member = member_at(*obj_, {"metadata", "generation"});
  if (member == nullptr || !member->is_number_integer())
    return 0;
  return member->get<int64_t>();
}

bool object_ref::deleting() const {
  auto member = member_at(*obj_, {"metadata", "deletionTimestamp"});
  return member != nullptr && !member->is_null();
}

namespace {

std::optional<std::string> map_value(const nlohmann::json* map,
                                     std::string_view key) {
  if (map == nullptr || !map->is_object())
    return std::nullopt;
  auto i = map->find(key);
  if (i == map->end() || !i->is_string())
    return std::nullopt;
  return i->get<std::string>();
}

} // namespace

std::optional<std::string> object_ref::label(std::string_view key) const {
  return map_value(member_at(*obj_, {"metadata", "labels"}), key);
}

std::optional<std::string> object_ref::annotation(std::string_view key) const {
  return map_value(member_at(*obj_, {"metadata", "annotations"}), key);
}

std::string object_ref::key() const {
  return object_key(namespace_(), name());
}

std::string object_key(std::string_view namespace_, std::string_view name) {
  std::string result;
  if (!namespace_.empty()) {
    result.reserve(namespace_.size() + name.size() + 1);
    result += namespace_;
    result += '/';
  }
  result += name;
  return result;
}

nlohmann::json
make_metadata(std::string_view namespace_, std::string_view name,
              const std::map<std::string, std::string>& labels,
              const std::map<std::string, std::string>& annotations,
              std::string_view generate_name) {
  auto meta = nlohmann::json::object();
  if (!name.empty())
    meta["name"] = name;
  else if (!generate_name.empty())
    meta["generateName"] = generate_name;
  if (!namespace_.empty())
    meta["namespace"] = namespace_;
  if (!labels.empty())
    meta["labels"] = labels;
  if (!annotations.empty())
    meta["annotations"] = annotations;
  return meta;
}

} // namespace istio_csr::kube
