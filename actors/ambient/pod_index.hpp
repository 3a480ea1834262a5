#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/ambient/pod_record.hpp"

namespace istio_csr::actors::ambient {

/// A pod record (`make_pod_record`), shared with the informer cache.
using record_ptr = std::shared_ptr<const nlohmann::json>;

/// The pods of the cluster as node authorization needs them: each pod by
/// `namespace/name`, and how many pods of each service account
/// `(namespace, serviceAccountName)` run on each node. Pods in phase
/// `Failed` and pods without a node or service account are kept (a caller
/// pod is looked up by name) but not counted, as istiod's index.
///
/// Memory: the index holds the records the informer caches (shared, not
/// copied), one 32-byte hash node per pod, and one small node per
/// (service account, node) pair; namespace, service account and node names
/// are interned once with reference counts, so nodes and accounts that go
/// away free their names. Pure data, no locking: one owner (the pod-index
/// actor) mutates and reads it.
class pod_index {
 public:
  pod_index() = default;
  pod_index(const pod_index&) = delete;
  pod_index& operator=(const pod_index&) = delete;

  /// Adds the pod of `record`, or replaces the pod of the same
  /// `namespace/name`. Records that are not pod records are ignored
  /// (returns false).
  bool upsert(record_ptr record);

  /// Removes the pod `namespace_/name`. Returns whether it was there.
  bool erase(std::string_view namespace_, std::string_view name);

  /// Removes the pod a record names.
  bool erase(const nlohmann::json& record);

  /// Removes every pod.
  void clear();

  /// The pod `namespace_/name`: views valid until the next mutation.
  std::optional<pod_fields> find(std::string_view namespace_,
                                 std::string_view name) const;

  /// How many counted pods of service account `namespace_/service_account`
  /// run on `node`.
  std::size_t count_on_node(std::string_view namespace_,
                            std::string_view service_account,
                            std::string_view node) const;

  /// Pods indexed.
  std::size_t size() const noexcept {
    return pods_.size();
  }

  /// Distinct (service account, node) pairs with at least one counted pod.
  std::size_t pairs() const noexcept {
    return counts_.size();
  }

  /// Distinct interned names (namespaces, service accounts, nodes).
  std::size_t names() const noexcept {
    return names_.size();
  }

 private:
  // -- interned names
  // ----------------------------------------------------------

  struct string_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };

  struct name_entry {
    uint32_t id;
    uint32_t refs;
  };

  uint32_t acquire(std::string_view name);
  void release(std::string_view name);
  std::optional<uint32_t> lookup(std::string_view name) const;

  // -- pods by namespace/name
  // ---------------------------------------------------

  /// `namespace/name` as views.
  struct pod_key {
    std::string_view namespace_;
    std::string_view name;
  };

  struct record_hash {
    using is_transparent = void;
    std::size_t operator()(const pod_key& key) const noexcept;
    std::size_t operator()(const record_ptr& record) const noexcept;
  };

  struct record_equal {
    using is_transparent = void;
    bool operator()(const record_ptr& x, const record_ptr& y) const noexcept;
    bool operator()(const pod_key& x, const record_ptr& y) const noexcept;
    bool operator()(const record_ptr& x, const pod_key& y) const noexcept;
  };

  // -- counts per (namespace, service account, node)
  // ----------------------------

  struct pair_key {
    uint32_t namespace_;
    uint32_t service_account;
    uint32_t node;
    bool operator==(const pair_key&) const = default;
  };

  struct pair_hash {
    std::size_t operator()(const pair_key& key) const noexcept;
  };

  void count(const pod_fields& pod);
  void uncount(const pod_fields& pod);

  std::unordered_map<std::string, name_entry, string_hash, std::equal_to<>>
    names_;
  std::vector<uint32_t> free_ids_;
  uint32_t next_id_ = 0;
  std::unordered_set<record_ptr, record_hash, record_equal> pods_;
  std::unordered_map<pair_key, uint32_t, pair_hash> counts_;
};

} // namespace istio_csr::actors::ambient
