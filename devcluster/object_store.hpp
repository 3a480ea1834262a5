#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "devcluster/resources.hpp"

namespace istio_csr::devcluster {

/// One version of an object, immutable once stored and shared between the
/// store, the history and responses.
struct stored_object {
  /// The object without `kind`/`apiVersion` (added when serving).
  nlohmann::json body;
  /// `body.dump()`, computed once.
  std::string json;
  std::map<std::string, std::string> labels;
  std::string ns;
  std::string name;
  uint64_t rv = 0;

  /// Builds a stored object from `body` (reads name, namespace, labels and
  /// resourceVersion from its metadata).
  static std::shared_ptr<const stored_object> make(nlohmann::json body);
};

using object_ptr = std::shared_ptr<const stored_object>;

enum class change_type : uint8_t { added, modified, deleted };

/// One write, as kept in the history and sent to listeners.
struct change {
  uint64_t rv = 0;
  const resource_type* type = nullptr;
  change_type kind = change_type::added;
  /// New state; for a deletion, the last state carrying the deletion's rv.
  object_ptr object;
  /// State before the write; null for additions.
  object_ptr prev;
};

/// Receives the writes of one resource type (optionally one namespace).
class change_listener {
 public:
  virtual ~change_listener() = default;
  virtual void on_change(const change& c) = 0;
};

/// All objects, the global resourceVersion counter and a bounded history of
/// writes. Single-threaded: every call happens on the server's thread.
class object_store {
 public:
  using name_map = std::map<std::string, object_ptr, std::less<>>;
  using namespace_map = std::map<std::string, name_map, std::less<>>;

  object_store(const resource_registry& registry, size_t history_limit);

  /// The latest resourceVersion handed out.
  uint64_t resource_version() const noexcept {
    return rv_;
  }

  /// The oldest resourceVersion from which every later change is still in
  /// the history (watches and consistent lists can start there or later).
  uint64_t oldest_resource_version() const noexcept {
    return history_start_;
  }

  object_ptr get(const resource_type& t, std::string_view ns,
                 std::string_view name) const;

  /// Every object of `t`, by namespace ("" for cluster-scoped) and name.
  const namespace_map& objects(const resource_type& t) const {
    return tables_[t.id];
  }

  /// Objects of `t` in `ns`, or null if there are none.
  const name_map* objects_in(const resource_type& t, std::string_view ns) const;

  /// Number of objects of `t` (in `ns` if given).
  size_t count(const resource_type& t,
               std::optional<std::string_view> ns = std::nullopt) const;

  /// Stores `body` (metadata.name, and metadata.namespace for namespaced
  /// types, must be set) with the next resourceVersion; ADDED or MODIFIED
  /// depending on whether the object exists.
  object_ptr put(const resource_type& t, nlohmann::json body);

  /// Deletes an object; returns its last state with the deletion's
  /// resourceVersion, or null if it does not exist. `final_body`, if given,
  /// replaces the stored body as the last state (an update that completes
  /// a deletion by removing the last finalizer).
  object_ptr remove(const resource_type& t, std::string_view ns,
                    std::string_view name,
                    const nlohmann::json* final_body = nullptr);

  /// Drops the whole history: watches from older versions get 410.
  void compact();

  /// Changes with rv > `since`, oldest first; `since` must be at least
  /// `oldest_resource_version()`.
  void for_each_change_since(uint64_t since,
                             const std::function<void(const change&)>& f) const;

  /// Objects of `t` (in `ns` if given) as they were at `rv`, sorted by
  /// namespace and name. `rv` must be at least `oldest_resource_version()`.
  std::vector<object_ptr> snapshot(const resource_type& t,
                                   std::optional<std::string_view> ns,
                                   uint64_t rv) const;

  /// Whether objects of `t` (in `ns` if given) changed after `rv`.
  bool changed_since(const resource_type& t, std::optional<std::string_view> ns,
                     uint64_t rv) const;

  /// Registers `l` for changes of `t`; `ns` empty means all namespaces.
  void subscribe(const resource_type& t, const std::string& ns,
                 change_listener* l);
  void unsubscribe(const resource_type& t, const std::string& ns,
                   change_listener* l);

  size_t listener_count() const noexcept {
    return listener_count_;
  }

  size_t history_size() const noexcept {
    return history_.size();
  }

 private:
  void record(change c);

  const resource_registry& registry_;
  size_t history_limit_;
  uint64_t rv_ = 0;
  uint64_t history_start_ = 0;
  std::vector<namespace_map> tables_;
  std::deque<change> history_;
  // listeners_[type][namespace]; "" = all namespaces.
  std::vector<std::map<std::string, std::vector<change_listener*>>> listeners_;
  size_t listener_count_ = 0;
};

} // namespace istio_csr::devcluster
