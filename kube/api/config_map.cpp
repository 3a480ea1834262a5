#include "kube/api/config_map.hpp"

namespace istio_csr::kube {

std::optional<std::string> config_map_view::data(std::string_view key) const {
  auto member = member_at(json(), {"data"});
  if (member == nullptr || !member->is_object())
    return std::nullopt;
  auto i = member->find(key);
  if (i == member->end() || !i->is_string())
    return std::nullopt;
  return i->get<std::string>();
}

nlohmann::json make_config_map(std::string_view namespace_,
                               std::string_view name,
                               const std::map<std::string, std::string>& labels,
                               const std::map<std::string, std::string>& data) {
  return nlohmann::json{{"apiVersion", "v1"},
                        {"kind", "ConfigMap"},
                        {"metadata", make_metadata(namespace_, name, labels)},
                        {"data", data}};
}

} // namespace istio_csr::kube
