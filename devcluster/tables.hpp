#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "devcluster/object_store.hpp"
#include "devcluster/resources.hpp"

namespace istio_csr::devcluster {

/// What `includeObject` asks rows to carry.
enum class include_object { none, metadata, object };

/// Builds `meta.k8s.io/v1` Tables (`kubectl get` without `-o`) with columns
/// like a real server's for each type.
class table_builder {
 public:
  explicit table_builder(const resource_type& t);

  /// A Table of `objects`; `list_rv` goes to metadata.resourceVersion.
  nlohmann::json table(const std::vector<const stored_object*>& objects,
                       const std::string& list_rv, include_object include,
                       std::chrono::system_clock::time_point now,
                       bool with_columns = true) const;

 private:
  struct column {
    std::string name;
    std::string type;
    std::string format;
    int priority = 0;
    std::string description;
  };
  nlohmann::json cells(const nlohmann::json& obj,
                       std::chrono::system_clock::time_point now) const;
  const resource_type& type_;
  std::vector<column> columns_;
};

/// The full object (`kind`/`apiVersion` spliced in front of the stored
/// JSON).
std::string object_json(const resource_type& t, const stored_object& o);

/// `PartialObjectMetadata` of an object.
nlohmann::json partial_metadata(const stored_object& o);

} // namespace istio_csr::devcluster
