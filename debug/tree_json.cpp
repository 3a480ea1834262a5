#include "debug/tree_json.hpp"

namespace istio_csr::debug {

nlohmann::ordered_json to_json(const introspection::tree_node& node) {
  auto children = nlohmann::ordered_json::array();
  for (const auto& child : node.children)
    children.push_back(to_json(child));
  return {
    {"name", node.name},
    {"path", node.path},
    {"incarnation", node.incarnation},
    {"restarts", node.restarts},
    {"recent_failures", node.recent_failures},
    {"max_restarts", node.max_restarts},
    {"running", node.running},
    {"supervisor", node.supervisor},
    {"mailbox", node.mailbox ? nlohmann::ordered_json(*node.mailbox)
                             : nlohmann::ordered_json(nullptr)},
    {"state", node.state},
    {"children", std::move(children)},
  };
}

} // namespace istio_csr::debug
