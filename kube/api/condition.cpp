#include "kube/api/condition.hpp"

namespace istio_csr::kube {

std::vector<condition> conditions_of(const nlohmann::json& obj) {
  std::vector<condition> result;
  auto member = member_at(obj, {"status", "conditions"});
  if (member == nullptr || !member->is_array())
    return result;
  for (auto& c : *member)
    result.push_back(condition{string_at(c, {"type"}), string_at(c, {"status"}),
                               string_at(c, {"reason"}),
                               string_at(c, {"message"})});
  return result;
}

std::optional<condition> find_condition(const std::vector<condition>& all,
                                        std::string_view type) {
  for (auto& c : all)
    if (c.type == type)
      return c;
  return std::nullopt;
}

std::string to_string(const std::vector<condition>& all) {
  std::string result = "[";
  for (auto& c : all) {
    if (result.size() > 1)
      result += ", ";
    result += c.type;
    result += '=';
    result += c.status;
    if (!c.reason.empty() || !c.message.empty()) {
      result += " (";
      result += c.reason;
      if (!c.message.empty()) {
        result += ": ";
        result += c.message;
      }
      result += ')';
    }
  }
  result += ']';
  return result;
}

nlohmann::json to_json(const issuer_ref& ref) {
  return nlohmann::json{
    {"name", ref.name}, {"kind", ref.kind}, {"group", ref.group}};
}

issuer_ref issuer_ref_of(const nlohmann::json* member) {
  if (member == nullptr)
    return {};
  return issuer_ref{string_at(*member, {"name"}), string_at(*member, {"kind"}),
                    string_at(*member, {"group"})};
}

} // namespace istio_csr::kube
