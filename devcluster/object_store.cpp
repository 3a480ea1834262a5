#include "devcluster/object_store.hpp"

#include <algorithm>

namespace istio_csr::devcluster {

object_ptr stored_object::make(nlohmann::json body) {
  auto obj = std::make_shared<stored_object>();
  auto& meta = body["metadata"];
  if (auto it = meta.find("name"); it != meta.end() && it->is_string())
    obj->name = it->get<std::string>();
  if (auto it = meta.find("namespace"); it != meta.end() && it->is_string())
    obj->ns = it->get<std::string>();
  if (auto it = meta.find("labels"); it != meta.end() && it->is_object())
    for (auto& [k, v] : it->items())
      if (v.is_string())
        obj->labels.emplace(k, v.get<std::string>());
  if (auto it = meta.find("resourceVersion");
      it != meta.end() && it->is_string()) {
    try {
      obj->rv = std::stoull(it->get<std::string>());
    } catch (...) {
      obj->rv = 0;
    }
  }
  obj->json = body.dump();
  obj->body = std::move(body);
  return obj;
}

object_store::object_store(const resource_registry& registry,
                           size_t history_limit)
  : registry_(registry), history_limit_(history_limit),
    tables_(registry.all().size()), listeners_(registry.all().size()) {}

object_ptr object_store::get(const resource_type& t, std::string_view ns,
                             std::string_view name) const {
  auto* m = objects_in(t, ns);
  if (m == nullptr)
    return nullptr;
  auto it = m->find(name);
  return it == m->end() ? nullptr : it->second;
}

const object_store::name_map*
object_store::objects_in(const resource_type& t, std::string_view ns) const {
  auto& table = tables_[t.id];
  auto it = table.find(ns);
  return it == table.end() ? nullptr : &it->second;
}

size_t object_store::count(const resource_type& t,
                           std::optional<std::string_view> ns) const {
  if (ns) {
    auto* m = objects_in(t, *ns);
    return m ? m->size() : 0;
  }
  size_t n = 0;
  for (auto& [_, m] : tables_[t.id])
    n += m.size();
  return n;
}

object_ptr object_store::put(const resource_type& t, nlohmann::json body) {
  auto& meta = body["metadata"];
  std::string ns = t.namespaced ? meta.value("namespace", "") : "";
  std::string name = meta.value("name", "");
  meta["resourceVersion"] = std::to_string(++rv_);
  auto obj = stored_object::make(std::move(body));
  auto& slot = tables_[t.id][ns][name];
  change c;
  c.rv = rv_;
  c.type = &t;
  c.kind = slot ? change_type::modified : change_type::added;
  c.prev = std::move(slot);
  c.object = obj;
  slot = obj;
  record(std::move(c));
  return obj;
}

object_ptr object_store::remove(const resource_type& t, std::string_view ns,
                                std::string_view name,
                                const nlohmann::json* final_body) {
  auto& table = tables_[t.id];
  auto nit = table.find(ns);
  if (nit == table.end())
    return nullptr;
  auto it = nit->second.find(name);
  if (it == nit->second.end())
    return nullptr;
  auto prev = std::move(it->second);
  nit->second.erase(it);
  if (nit->second.empty())
    table.erase(nit);
  auto body = final_body ? *final_body : prev->body;
  body["metadata"]["resourceVersion"] = std::to_string(++rv_);
  auto obj = stored_object::make(std::move(body));
  change c;
  c.rv = rv_;
  c.type = &t;
  c.kind = change_type::deleted;
  c.prev = std::move(prev);
  c.object = obj;
  record(std::move(c));
  return obj;
}

void object_store::record(change c) {
  // Listeners may not unsubscribe synchronously (they defer closing), but
  // copy anyway so that a misbehaving one cannot invalidate the iteration.
  auto& by_ns = listeners_[c.type->id];
  auto notify = [&](const std::string& key) {
    auto it = by_ns.find(key);
    if (it == by_ns.end())
      return;
    auto copy = it->second;
    for (auto* l : copy)
      l->on_change(c);
  };
  if (!by_ns.empty()) {
    if (!c.object->ns.empty())
      notify(c.object->ns);
    notify("");
  }
  history_.push_back(std::move(c));
  while (history_.size() > history_limit_) {
    history_start_ = history_.front().rv;
    history_.pop_front();
  }
  if (history_limit_ == 0)
    history_start_ = rv_;
}

void object_store::compact() {
  history_.clear();
  history_start_ = rv_;
}

void object_store::for_each_change_since(
  uint64_t since, const std::function<void(const change&)>& f) const {
  if (history_.empty() || since >= rv_)
    return;
  // Versions in the history are contiguous: one change per version.
  size_t first = since < history_.front().rv
                   ? 0
                   : static_cast<size_t>(since + 1 - history_.front().rv);
  for (size_t i = first; i < history_.size(); ++i)
    f(history_[i]);
}

bool object_store::changed_since(const resource_type& t,
                                 std::optional<std::string_view> ns,
                                 uint64_t rv) const {
  for (auto it = history_.rbegin(); it != history_.rend() && it->rv > rv; ++it)
    if (it->type == &t && (!ns || it->object->ns == *ns))
      return true;
  return false;
}

std::vector<object_ptr>
object_store::snapshot(const resource_type& t,
                       std::optional<std::string_view> ns, uint64_t rv) const {
  std::map<std::pair<std::string, std::string>, object_ptr> state;
  auto add_all = [&](const name_map& m) {
    for (auto& [name, obj] : m)
      state.emplace(std::make_pair(obj->ns, name), obj);
  };
  if (ns) {
    if (auto* m = objects_in(t, *ns))
      add_all(*m);
  } else {
    for (auto& [_, m] : tables_[t.id])
      add_all(m);
  }
  for (auto it = history_.rbegin(); it != history_.rend() && it->rv > rv;
       ++it) {
    if (it->type != &t || (ns && it->object->ns != *ns))
      continue;
    auto key = std::make_pair(it->object->ns, it->object->name);
    if (it->kind == change_type::added)
      state.erase(key);
    else
      state[key] = it->prev;
  }
  std::vector<object_ptr> out;
  out.reserve(state.size());
  for (auto& [_, obj] : state)
    out.push_back(obj);
  return out;
}

void object_store::subscribe(const resource_type& t, const std::string& ns,
                             change_listener* l) {
  listeners_[t.id][ns].push_back(l);
  ++listener_count_;
}

void object_store::unsubscribe(const resource_type& t, const std::string& ns,
                               change_listener* l) {
  auto& by_ns = listeners_[t.id];
  auto it = by_ns.find(ns);
  if (it == by_ns.end())
    return;
  auto& v = it->second;
  auto pos = std::find(v.begin(), v.end(), l);
  if (pos == v.end())
    return;
  v.erase(pos);
  --listener_count_;
  if (v.empty())
    by_ns.erase(it);
}

} // namespace istio_csr::devcluster
