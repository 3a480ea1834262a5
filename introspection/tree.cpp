#include "introspection/tree.hpp"

namespace istio_csr::introspection {

void assign_paths(tree_node& node, const std::string& prefix) {
  node.path = prefix.empty() ? node.name : prefix + '/' + node.name;
  for (auto& child : node.children)
    assign_paths(child, node.path);
}

const tree_node* find_path(const tree_node& root, std::string_view path) {
  if (root.path == path)
    return &root;
  // Only a prefix of `path` can contain it.
  if (path.size() <= root.path.size()
      || path.compare(0, root.path.size(), root.path) != 0
      || path[root.path.size()] != '/')
    return nullptr;
  for (const auto& child : root.children)
    if (auto* found = find_path(child, path))
      return found;
  return nullptr;
}

void for_each_node(const tree_node& root,
                   const std::function<void(const tree_node&)>& f) {
  f(root);
  for (const auto& child : root.children)
    for_each_node(child, f);
}

} // namespace istio_csr::introspection
