#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace istio_csr::test {

/// An owned socket descriptor, closed on destruction.
class socket_fd {
 public:
  socket_fd() = default;
  explicit socket_fd(int fd) noexcept : fd_(fd) {}
  ~socket_fd();
  socket_fd(socket_fd&& other) noexcept;
  socket_fd& operator=(socket_fd&& other) noexcept;
  socket_fd(const socket_fd&) = delete;
  socket_fd& operator=(const socket_fd&) = delete;

  int get() const noexcept {
    return fd_;
  }

  bool valid() const noexcept {
    return fd_ >= 0;
  }

  /// Closes the descriptor now.
  void reset() noexcept;

 private:
  int fd_ = -1;
};

/// A blocking TCP connection to `host`:`port` from the local address
/// `source` (any loopback address, 127.0.0.0/8, works on Linux, so tests can
/// act as several clients), with SO_RCVBUF `receive_buffer` unless 0.
/// Invalid on failure.
socket_fd tcp_connect(std::uint16_t port, const std::string& source = {},
                      const std::string& host = "127.0.0.1",
                      int receive_buffer = 0);

/// Whether the peer closed `fd` (EOF or reset) within `timeout`; data
/// received meanwhile is discarded.
bool closed_by_peer(int fd, std::chrono::milliseconds timeout);

/// Opens up to `n` TCP connections to `port` from `source` that never send
/// a byte (fewer if the process runs out of descriptors).
std::vector<socket_fd> idle_sockets(std::uint16_t port, std::size_t n,
                                    const std::string& source = {});

/// How many of `fds` the peer has closed (EOF or reset), without waiting.
std::size_t closed_count(const std::vector<socket_fd>& fds);

/// Raises this process's soft descriptor limit to the hard limit (tests that
/// open hundreds of sockets, client and server ends in one process); returns
/// the soft limit now in force.
std::size_t raise_fd_limit();

/// A TCP port that was free a moment ago (bind 127.0.0.1:0, close).
std::uint16_t free_port();

/// The HTTP status of GET http://127.0.0.1:port/path, or -1 if there is no
/// answer (2 s to send and to receive).
int http_status(std::uint16_t port, const std::string& path);

} // namespace istio_csr::test
