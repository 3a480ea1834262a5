#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kube/api/object.hpp"

namespace istio_csr::kube {

/// Read-only view of a `v1 ConfigMap`.
class config_map_view : public object_ref {
 public:
  using object_ref::object_ref;

  /// `data`.
  std::map<std::string, std::string> data() const {
    return string_map(member_at(json(), {"data"}));
  }

  /// One `data` entry, nullopt when absent.
  std::optional<std::string> data(std::string_view key) const;
};

/// A complete `v1 ConfigMap` object for create or update.
nlohmann::json make_config_map(std::string_view namespace_,
                               std::string_view name,
                               const std::map<std::string, std::string>& labels,
                               const std::map<std::string, std::string>& data);

} // namespace istio_csr::kube
