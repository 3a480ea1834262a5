#include "grpc_bridge/tls/admission.hpp"

#include <algorithm>

namespace istio_csr::grpc_bridge {

admission::admission(admission_limits limits) : limits_(limits) {
  limits_.max_connections = std::max<std::size_t>(limits_.max_connections, 1);
  limits_.max_handshakes = std::max<std::size_t>(limits_.max_handshakes, 1);
  limits_.max_pending_per_source
    = std::max<std::size_t>(limits_.max_pending_per_source, 1);
}

admission::actions admission::accept(id_type id, const std::string& source) {
  std::lock_guard<std::mutex> guard{mtx_};
  actions out;
  if (auto i = pending_.find(source);
      i != pending_.end()
      && i->second.size() >= limits_.max_pending_per_source) {
    auto victim = pick_victim(i->second);
    forget(victim, out);
    out.evicted.push_back(victim);
  }
  if (entries_.size() >= limits_.max_connections) {
    if (silent_.empty())
      return out;
    auto victim = silent_.front();
    forget(victim, out);
    out.evicted.push_back(victim);
  }
  auto& pending = pending_[source];
  pending.push_back(id);
  silent_.push_back(id);
  entry e;
  e.source = source;
  e.by_source = std::prev(pending.end());
  e.in_phase = std::prev(silent_.end());
  entries_.emplace(id, std::move(e));
  out.admitted = true;
  return out;
}

admission::id_type
admission::pick_victim(const std::list<id_type>& pending) const {
  for (auto want : {phase::silent, phase::queued})
    for (auto id : pending)
      if (entries_.at(id).state == want)
        return id;
  return pending.front();
}

bool admission::first_bytes(id_type id) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = entries_.find(id);
  if (i == entries_.end() || i->second.state != phase::silent)
    return false;
  auto& e = i->second;
  silent_.erase(e.in_phase);
  if (handshaking_.size() < limits_.max_handshakes) {
    e.state = phase::handshaking;
    handshaking_.push_back(id);
    e.in_phase = std::prev(handshaking_.end());
    return true;
  }
  e.state = phase::queued;
  queue_.push_back(id);
  e.in_phase = std::prev(queue_.end());
  return false;
}

admission::actions admission::established(id_type id) {
  std::lock_guard<std::mutex> guard{mtx_};
  actions out;
  auto i = entries_.find(id);
  if (i == entries_.end() || i->second.state != phase::handshaking)
    return out;
  auto& e = i->second;
  handshaking_.erase(e.in_phase);
  e.state = phase::established;
  auto p = pending_.find(e.source);
  p->second.erase(e.by_source);
  if (p->second.empty())
    pending_.erase(p);
  grant(out);
  return out;
}

admission::actions admission::closed(id_type id) {
  std::lock_guard<std::mutex> guard{mtx_};
  actions out;
  forget(id, out);
  return out;
}

void admission::forget(id_type id, actions& out) {
  auto i = entries_.find(id);
  if (i == entries_.end())
    return;
  auto& e = i->second;
  bool freed_slot = false;
  switch (e.state) {
    case phase::silent: silent_.erase(e.in_phase); break;
    case phase::queued: queue_.erase(e.in_phase); break;
    case phase::handshaking:
      handshaking_.erase(e.in_phase);
      freed_slot = true;
      break;
    case phase::established: break;
  }
  if (e.state != phase::established) {
    auto p = pending_.find(e.source);
    p->second.erase(e.by_source);
    if (p->second.empty())
      pending_.erase(p);
  }
  entries_.erase(i);
  if (freed_slot)
    grant(out);
}

void admission::grant(actions& out) {
  while (handshaking_.size() < limits_.max_handshakes && !queue_.empty()) {
    auto id = queue_.front();
    queue_.pop_front();
    auto& e = entries_.at(id);
    e.state = phase::handshaking;
    handshaking_.push_back(id);
    e.in_phase = std::prev(handshaking_.end());
    out.granted.push_back(id);
  }
}

admission::counts admission::current() const {
  std::lock_guard<std::mutex> guard{mtx_};
  counts c;
  c.total = entries_.size();
  c.silent = silent_.size();
  c.queued = queue_.size();
  c.handshaking = handshaking_.size();
  return c;
}

} // namespace istio_csr::grpc_bridge
