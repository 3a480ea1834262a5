#include "actors/ambient/pod_index.hpp"

namespace istio_csr::actors::ambient {

namespace {

std::size_t combine(std::size_t seed, std::size_t value) noexcept {
  // boost::hash_combine's 64-bit mix.
  return seed ^ (value + 0x9e3779b97f4a7c15ULL + (seed << 12) + (seed >> 4));
}

std::size_t hash_key(std::string_view ns, std::string_view name) noexcept {
  std::hash<std::string_view> h;
  return combine(h(ns), h(name));
}

/// Namespace and name of a record (the record is one, `upsert` checked).
std::pair<std::string_view, std::string_view>
key_of(const nlohmann::json& record) noexcept {
  std::string_view text = record.get_ref<const std::string&>();
  auto first = text.find('\x1f');
  auto ns = text.substr(0, first);
  text.remove_prefix(first + 1);
  return {ns, text.substr(0, text.find('\x1f'))};
}

/// Whether `pod` is counted on its node.
bool counted(const pod_fields& pod) noexcept {
  return !pod.node.empty() && !pod.service_account.empty() && counts(pod.phase);
}

} // namespace

// -- interned names
// ------------------------------------------------------------

uint32_t pod_index::acquire(std::string_view name) {
  if (auto i = names_.find(name); i != names_.end()) {
    ++i->second.refs;
    return i->second.id;
  }
  uint32_t id;
  if (!free_ids_.empty()) {
    id = free_ids_.back();
    free_ids_.pop_back();
  } else {
    id = next_id_++;
  }
  names_.emplace(std::string{name}, name_entry{id, 1});
  return id;
}

void pod_index::release(std::string_view name) {
  auto i = names_.find(name);
  if (i == names_.end())
    return;
  if (--i->second.refs == 0) {
    free_ids_.push_back(i->second.id);
    names_.erase(i);
  }
}

std::optional<uint32_t> pod_index::lookup(std::string_view name) const {
  if (auto i = names_.find(name); i != names_.end())
    return i->second.id;
  return std::nullopt;
}

// -- hashing
// -------------------------------------------------------------------

std::size_t
pod_index::record_hash::operator()(const pod_key& key) const noexcept {
  return hash_key(key.namespace_, key.name);
}

std::size_t
pod_index::record_hash::operator()(const record_ptr& record) const noexcept {
  auto [ns, name] = key_of(*record);
  return hash_key(ns, name);
}

bool pod_index::record_equal::operator()(const record_ptr& x,
                                         const record_ptr& y) const noexcept {
  return key_of(*x) == key_of(*y);
}

bool pod_index::record_equal::operator()(const pod_key& x,
                                         const record_ptr& y) const noexcept {
  auto [ns, name] = key_of(*y);
  return x.namespace_ == ns && x.name == name;
}

bool pod_index::record_equal::operator()(const record_ptr& x,
                                         const pod_key& y) const noexcept {
  return (*this)(y, x);
}

std::size_t
pod_index::pair_hash::operator()(const pair_key& key) const noexcept {
  auto h = static_cast<std::size_t>(key.namespace_) * 0x9e3779b97f4a7c15ULL;
  h = combine(h, key.service_account);
  return combine(h, key.node);
}

// -- counts
// --------------------------------------------------------------------

void pod_index::count(const pod_fields& pod) {
  if (!counted(pod))
    return;
  pair_key key{acquire(pod.namespace_), acquire(pod.service_account),
               acquire(pod.node)};
  ++counts_[key];
}

void pod_index::uncount(const pod_fields& pod) {
  if (!counted(pod))
    return;
  auto ns = lookup(pod.namespace_);
  auto sa = lookup(pod.service_account);
  auto node = lookup(pod.node);
  if (ns && sa && node) {
    auto i = counts_.find(pair_key{*ns, *sa, *node});
    if (i != counts_.end() && --i->second == 0)
      counts_.erase(i);
  }
  release(pod.namespace_);
  release(pod.service_account);
  release(pod.node);
}

// -- pods
// ----------------------------------------------------------------------

bool pod_index::upsert(record_ptr record) {
  if (!record)
    return false;
  auto fields = read_pod_record(*record);
  if (!fields)
    return false;
  // Count the new state before uncounting the old one: the names both
  // share stay interned.
  count(*fields);
  auto i = pods_.find(pod_key{fields->namespace_, fields->name});
  if (i != pods_.end()) {
    auto old = *i;
    pods_.erase(i);
    uncount(*read_pod_record(*old));
  }
  pods_.insert(std::move(record));
  return true;
}

bool pod_index::erase(std::string_view namespace_, std::string_view name) {
  auto i = pods_.find(pod_key{namespace_, name});
  if (i == pods_.end())
    return false;
  // `namespace_` and `name` may view into the record: keep it alive.
  auto old = *i;
  pods_.erase(i);
  uncount(*read_pod_record(*old));
  return true;
}

bool pod_index::erase(const nlohmann::json& record) {
  auto fields = read_pod_record(record);
  return fields && erase(fields->namespace_, fields->name);
}

void pod_index::clear() {
  pods_.clear();
  counts_.clear();
  names_.clear();
  free_ids_.clear();
  next_id_ = 0;
}

std::optional<pod_fields> pod_index::find(std::string_view namespace_,
                                          std::string_view name) const {
  auto i = pods_.find(pod_key{namespace_, name});
  if (i == pods_.end())
    return std::nullopt;
  return read_pod_record(**i);
}

std::size_t pod_index::count_on_node(std::string_view namespace_,
                                     std::string_view service_account,
                                     std::string_view node) const {
  auto ns = lookup(namespace_);
  auto sa = lookup(service_account);
  auto n = lookup(node);
  if (!ns || !sa || !n)
    return 0;
  auto i = counts_.find(pair_key{*ns, *sa, *n});
  return i == counts_.end() ? 0 : i->second;
}

} // namespace istio_csr::actors::ambient
