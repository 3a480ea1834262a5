#include "grpc_bridge/connection_registry.hpp"

#include <charconv>

namespace istio_csr::grpc_bridge {

void connection_registry::add(int fd,
                              std::shared_ptr<const connection_info> info) {
  std::lock_guard<std::mutex> guard{mtx_};
  entries_[fd] = std::move(info);
}

void connection_registry::remove(int fd, std::uint64_t id) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (auto i = entries_.find(fd); i != entries_.end() && i->second->id == id)
    entries_.erase(i);
}

std::shared_ptr<const connection_info>
connection_registry::find(std::string_view peer) const {
  constexpr std::string_view prefix = "fd:";
  if (peer.substr(0, prefix.size()) != prefix)
    return nullptr;
  peer.remove_prefix(prefix.size());
  int fd = -1;
  auto [end, ec] = std::from_chars(peer.data(), peer.data() + peer.size(), fd);
  if (ec != std::errc{} || end != peer.data() + peer.size())
    return nullptr;
  std::lock_guard<std::mutex> guard{mtx_};
  if (auto i = entries_.find(fd); i != entries_.end())
    return i->second;
  return nullptr;
}

std::size_t connection_registry::size() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return entries_.size();
}

} // namespace istio_csr::grpc_bridge
