#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace istio_csr::kube {

/// Returns the string at `obj[k1][k2]...`, or an empty string when a member
/// is missing or not a string. The reference stays valid while `obj` lives.
const std::string& string_at(const nlohmann::json& obj,
                             std::initializer_list<std::string_view> path);

/// Returns the member at `obj[k1][k2]...`, or nullptr when missing.
const nlohmann::json* member_at(const nlohmann::json& obj,
                                std::initializer_list<std::string_view> path);

/// Reads a `map[string]string` member (labels, annotations, ConfigMap data);
/// non-string values are skipped.
std::map<std::string, std::string> string_map(const nlohmann::json* member);

/// Read-only view of the `metadata` of any Kubernetes object. Holds a
/// reference: the object must outlive the view.
class object_ref {
 public:
  explicit object_ref(const nlohmann::json& obj) noexcept : obj_(&obj) {
    // nop
  }

  const nlohmann::json& json() const noexcept {
    return *obj_;
  }

  const std::string& kind() const {
    return string_at(*obj_, {"kind"});
  }

  const std::string& api_version() const {
    return string_at(*obj_, {"apiVersion"});
  }

  const std::string& name() const {
    return string_at(*obj_, {"metadata", "name"});
  }

  const std::string& namespace_() const {
    return string_at(*obj_, {"metadata", "namespace"});
  }

  const std::string& uid() const {
    return string_at(*obj_, {"metadata", "uid"});
  }

  const std::string& resource_version() const {
    return string_at(*obj_, {"metadata", "resourceVersion"});
  }

  const std::string& generate_name() const {
    return string_at(*obj_, {"metadata", "generateName"});
  }

  /// `metadata.generation`, 0 when absent.
  int64_t generation() const;

  /// Whether `metadata.deletionTimestamp` is set.
  bool deleting() const;

  std::map<std::string, std::string> labels() const {
    return string_map(member_at(*obj_, {"metadata", "labels"}));
  }

  std::map<std::string, std::string> annotations() const {
    return string_map(member_at(*obj_, {"metadata", "annotations"}));
  }

  /// The value of one label, nullopt when absent.
  std::optional<std::string> label(std::string_view key) const;

  /// The value of one annotation, nullopt when absent.
  std::optional<std::string> annotation(std::string_view key) const;

  /// The cache key: `namespace/name`, or `name` for cluster-scoped objects.
  std::string key() const;

 private:
  const nlohmann::json* obj_;
};

/// The cache key of a namespaced (`ns/name`) or cluster-scoped (`name`)
/// object.
std::string object_key(std::string_view namespace_, std::string_view name);

/// A `metadata` object with name (or `generateName` when `name` is empty
/// and `generate_name` is not), namespace (when not empty), labels and
/// annotations (when not empty).
nlohmann::json
make_metadata(std::string_view namespace_, std::string_view name,
              const std::map<std::string, std::string>& labels = {},
              const std::map<std::string, std::string>& annotations = {},
              std::string_view generate_name = {});

} // namespace istio_csr::kube
