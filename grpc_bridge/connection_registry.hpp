#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <unordered_map>

#include "grpc_bridge/tls/tls_server.hpp"

namespace istio_csr::grpc_bridge {

/// Maps the descriptor handed to grpc (whose calls report the peer "fd:N")
/// to the TLS connection behind it.
///
/// Descriptor numbers are reused once closed. grpc closes its descriptor
/// only when the transport is destroyed, i.e. after its last call is gone,
/// so a live call always resolves to its own connection. What can happen is
/// that a new connection gets number N before the old one's removal runs:
/// `remove` therefore only erases the entry of the same connection id.
class connection_registry {
 public:
  /// Registers `info` for descriptor `fd` (replacing a stale entry).
  void add(int fd, std::shared_ptr<const connection_info> info);

  /// Removes the entry of `fd` if it still belongs to connection `id`.
  void remove(int fd, std::uint64_t id);

  /// The connection of a grpc peer string "fd:N"; null if unknown.
  std::shared_ptr<const connection_info> find(std::string_view peer) const;

  std::size_t size() const;

 private:
  mutable std::mutex mtx_;
  std::unordered_map<int, std::shared_ptr<const connection_info>> entries_;
};

} // namespace istio_csr::grpc_bridge
