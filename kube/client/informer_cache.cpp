#include "kube/client/informer_cache.hpp"

namespace istio_csr::kube {

std::string to_string(informer_event_type t) {
  switch (t) {
    case informer_event_type::added: return "added";
    case informer_event_type::updated: return "updated";
    case informer_event_type::deleted: return "deleted";
    case informer_event_type::synced: return "synced";
  }
  return "?";
}

std::vector<informer_event>
informer_cache::replace(std::map<std::string, entry> items) {
  std::vector<informer_event> events;
  // Both maps are sorted: walk them together.
  auto old_i = items_.begin();
  auto new_i = items.begin();
  while (old_i != items_.end() || new_i != items.end()) {
    if (new_i == items.end()
        || (old_i != items_.end() && old_i->first < new_i->first)) {
      events.push_back(informer_event{informer_event_type::deleted,
                                      old_i->second.object,
                                      old_i->second.object});
      ++old_i;
    } else if (old_i == items_.end() || new_i->first < old_i->first) {
      events.push_back(
        informer_event{informer_event_type::added, new_i->second.object, {}});
      ++new_i;
    } else {
      if (old_i->second.resource_version != new_i->second.resource_version)
        events.push_back(informer_event{informer_event_type::updated,
                                        new_i->second.object,
                                        old_i->second.object});
      else
        new_i->second = old_i->second; // keep sharing the old object
      ++old_i;
      ++new_i;
    }
  }
  items_ = std::move(items);
  return events;
}

std::optional<informer_event> informer_cache::apply(watch_event_type type,
                                                    const std::string& key,
                                                    entry item) {
  auto i = items_.find(key);
  switch (type) {
    case watch_event_type::added:
    case watch_event_type::modified: {
      if (i == items_.end()) {
        auto obj = item.object;
        items_.emplace(key, std::move(item));
        return informer_event{informer_event_type::added, std::move(obj), {}};
      }
      if (i->second.resource_version == item.resource_version)
        return std::nullopt;
      auto old = std::move(i->second.object);
      auto obj = item.object;
      i->second = std::move(item);
      return informer_event{informer_event_type::updated, std::move(obj),
                            std::move(old)};
    }
    case watch_event_type::deleted: {
      if (i == items_.end())
        return std::nullopt;
      auto old = std::move(i->second.object);
      items_.erase(i);
      return informer_event{informer_event_type::deleted,
                            std::move(item.object), std::move(old)};
    }
    default: return std::nullopt;
  }
}

object_ptr informer_cache::get(const std::string& key) const {
  auto i = items_.find(key);
  return i == items_.end() ? nullptr : i->second.object;
}

std::vector<object_ptr> informer_cache::list() const {
  std::vector<object_ptr> result;
  result.reserve(items_.size());
  for (auto& [key, value] : items_)
    result.push_back(value.object);
  return result;
}

} // namespace istio_csr::kube
