#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace istio_csr::grpc_bridge {

/// The connection limits `admission` enforces (see `tls_server_settings`).
struct admission_limits {
  std::size_t max_connections = 20000;
  std::size_t max_handshakes = 512;
  std::size_t max_pending_per_source = 64;
};

/// Decides which TCP connections the TLS front keeps and which may run a
/// TLS handshake, so that idle or stalled sockets cannot lock real clients
/// out:
/// - a connection is *silent* until its first bytes arrive, then *queued*
///   until it gets one of `max_handshakes` slots, then *handshaking*, then
///   *established*;
/// - only handshaking connections hold a slot; queued ones get freed slots
///   in arrival order;
/// - a source address may have `max_pending_per_source` connections not yet
///   established; a newcomer beyond that evicts the source's oldest silent
///   connection, else its oldest queued one, else its oldest handshaking
///   one (a flood from one address only hurts that address);
/// - beyond `max_connections` a newcomer evicts the oldest silent
///   connection of any source, and is refused only if there is none.
///
/// Pure bookkeeping, thread-safe. Connections are identified by ids that
/// increase with accept order; the caller closes what it is told to evict
/// and starts the handshakes it is told were granted.
class admission {
 public:
  using id_type = std::uint64_t;

  explicit admission(admission_limits limits);

  /// What the caller must do after a change.
  struct actions {
    /// Only for `accept`: whether the new connection may stay.
    bool admitted = false;
    /// Connections to close (already forgotten here).
    std::vector<id_type> evicted;
    /// Queued connections that now hold a handshake slot.
    std::vector<id_type> granted;
  };

  /// A new TCP connection `id` from `source` (an address without port).
  actions accept(id_type id, const std::string& source);

  /// The first bytes of `id` arrived. True if it holds a handshake slot
  /// now; false if it is queued (or unknown, i.e. evicted).
  bool first_bytes(id_type id);

  /// The handshake of `id` completed; its slot is free.
  actions established(id_type id);

  /// `id` closed, in any state (unknown ids are ignored).
  actions closed(id_type id);

  /// Current numbers of connections.
  struct counts {
    std::size_t total = 0;
    std::size_t silent = 0;
    std::size_t queued = 0;
    std::size_t handshaking = 0;
  };

  counts current() const;

 private:
  enum class phase { silent, queued, handshaking, established };

  struct entry {
    std::string source;
    phase state = phase::silent;
    // Positions in the lists below (valid while in them).
    std::list<id_type>::iterator by_source;
    std::list<id_type>::iterator in_phase;
  };

  // Removes `id` everywhere; frees its slot. Must hold mtx_.
  void forget(id_type id, actions& out);

  // Hands free slots to queued connections. Must hold mtx_.
  void grant(actions& out);

  // The victim among `source`'s pending connections. Must hold mtx_.
  id_type pick_victim(const std::list<id_type>& pending) const;

  admission_limits limits_;
  mutable std::mutex mtx_;
  std::unordered_map<id_type, entry> entries_;
  // Per source: connections not yet established, oldest first.
  std::unordered_map<std::string, std::list<id_type>> pending_;
  // Oldest first.
  std::list<id_type> silent_;
  std::list<id_type> queue_;
  std::list<id_type> handshaking_;
};

} // namespace istio_csr::grpc_bridge
