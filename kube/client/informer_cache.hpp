#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/client/watch_event.hpp"

namespace istio_csr::kube {

/// An immutable cached object, shared between the cache and events.
using object_ptr = std::shared_ptr<const nlohmann::json>;

/// What an informer tells its subscribers.
enum class informer_event_type : uint8_t {
  added,
  updated,
  deleted,
  /// The first complete list has been delivered (once per informer).
  synced,
};

std::string to_string(informer_event_type t);

/// One informer notification. `object` is the new state (for `deleted`: the
/// last known state), `old_object` the previous state (`updated`, `deleted`).
struct informer_event {
  informer_event_type type = informer_event_type::added;
  object_ptr object;
  object_ptr old_object;
  /// Position in the informer's event sequence (starts at 1).
  uint64_t sequence = 0;
};

/// The local cache of an informer, keyed `namespace/name`, and the rules
/// that turn lists and watch events into notifications. Pure logic, no I/O
/// and no locking (the informer serialises access).
class informer_cache {
 public:
  /// A cached object plus its resourceVersion (read before any transform,
  /// so that a transform may drop metadata it does not need).
  struct entry {
    object_ptr object;
    std::string resource_version;
  };

  /// Replaces the whole content with a fresh list and returns the changes
  /// against the previous content, sorted by key: `added` for new keys,
  /// `updated` where the resourceVersion changed, `deleted` (with the last
  /// cached state) for keys that vanished. Unchanged objects produce
  /// nothing.
  std::vector<informer_event> replace(std::map<std::string, entry> items);

  /// Applies one ADDED/MODIFIED/DELETED watch event for `key`. Returns the
  /// notification, or nullopt when nothing changed (a replay of a known
  /// resourceVersion, a delete of an unknown object). An ADDED of a known
  /// object is an update; a MODIFIED of an unknown one is an add.
  std::optional<informer_event> apply(watch_event_type type,
                                      const std::string& key, entry item);

  /// The cached object, or nullptr.
  object_ptr get(const std::string& key) const;

  /// Every cached object, sorted by key.
  std::vector<object_ptr> list() const;

  size_t size() const noexcept {
    return items_.size();
  }

  const std::map<std::string, entry>& items() const noexcept {
    return items_;
  }

 private:
  std::map<std::string, entry> items_;
};

} // namespace istio_csr::kube
