#include "devcluster/issuer/status.hpp"

#include "kube/api/base64.hpp"
#include "kube/api/object.hpp"
#include "kube/api/time.hpp"

namespace istio_csr::devcluster::issuer {

namespace {

nlohmann::json& conditions_array(nlohmann::json& obj) {
  auto& status = obj["status"];
  if (!status.is_object())
    status = nlohmann::json::object();
  auto& conds = status["conditions"];
  if (!conds.is_array())
    conds = nlohmann::json::array();
  return conds;
}

std::string str(const nlohmann::json& entry, const char* key) {
  auto i = entry.find(key);
  return i != entry.end() && i->is_string() ? i->get<std::string>()
                                            : std::string{};
}

} // namespace

bool set_condition(nlohmann::json& obj, const kube::condition& c,
                   std::chrono::system_clock::time_point now,
                   std::optional<int64_t> observed_generation) {
  auto& conds = conditions_array(obj);
  nlohmann::json entry{{"type", c.type},
                       {"status", c.status},
                       {"lastTransitionTime", kube::format_time(now)},
                       {"reason", c.reason},
                       {"message", c.message}};
  if (observed_generation)
    entry["observedGeneration"] = *observed_generation;
  for (auto& old : conds) {
    if (!old.is_object() || str(old, "type") != c.type)
      continue;
    bool changed = str(old, "status") != c.status
                   || str(old, "reason") != c.reason
                   || str(old, "message") != c.message;
    if (observed_generation) {
      auto i = old.find("observedGeneration");
      changed = changed || i == old.end() || !i->is_number_integer()
                || i->get<int64_t>() != *observed_generation;
    }
    if (!changed)
      return false;
    if (str(old, "status") == c.status && old.contains("lastTransitionTime"))
      entry["lastTransitionTime"] = old["lastTransitionTime"];
    old = std::move(entry);
    return true;
  }
  conds.push_back(std::move(entry));
  return true;
}

bool remove_condition(nlohmann::json& obj, std::string_view type) {
  auto* status = kube::member_at(obj, {"status"});
  if (status == nullptr || !status->is_object())
    return false;
  auto& conds = obj["status"]["conditions"];
  if (!conds.is_array())
    return false;
  for (auto i = conds.begin(); i != conds.end(); ++i)
    if (i->is_object() && str(*i, "type") == type) {
      conds.erase(i);
      return true;
    }
  return false;
}

const nlohmann::json* condition_json(const nlohmann::json& obj,
                                     std::string_view type) {
  auto* conds = kube::member_at(obj, {"status", "conditions"});
  if (conds == nullptr || !conds->is_array())
    return nullptr;
  for (auto& c : *conds)
    if (c.is_object() && str(c, "type") == type)
      return &c;
  return nullptr;
}

bool has_condition(const nlohmann::json& obj, std::string_view type,
                   std::string_view status) {
  auto* c = condition_json(obj, type);
  return c != nullptr && str(*c, "status") == status;
}

std::optional<std::string> secret_data(const nlohmann::json& secret,
                                       std::string_view key) {
  auto* data = kube::member_at(secret, {"data"});
  if (data == nullptr || !data->is_object())
    return std::nullopt;
  auto i = data->find(key);
  if (i == data->end() || !i->is_string())
    return std::nullopt;
  return kube::base64_decode(i->get<std::string>());
}

} // namespace istio_csr::devcluster::issuer
