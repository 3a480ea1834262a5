#include "tests/support/sockets.hpp"

#include "process/fd_limit.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace istio_csr::test {

socket_fd::~socket_fd() {
  reset();
}

socket_fd::socket_fd(socket_fd&& other) noexcept : fd_(other.fd_) {
  other.fd_ = -1;
}

socket_fd& socket_fd::operator=(socket_fd&& other) noexcept {
  if (this != &other) {
    reset();
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

void socket_fd::reset() noexcept {
  if (fd_ >= 0)
    ::close(fd_);
  fd_ = -1;
}

socket_fd tcp_connect(std::uint16_t port, const std::string& source,
                      const std::string& host, int receive_buffer) {
  socket_fd fd{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (!fd.valid())
    return fd;
  if (receive_buffer > 0)
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &receive_buffer,
                 sizeof(receive_buffer));
  if (!source.empty()) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    if (::inet_pton(AF_INET, source.c_str(), &local.sin_addr) != 1
        || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&local), sizeof(local))
             != 0)
      return {};
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1
      || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr))
           != 0)
    return {};
  return fd;
}

bool closed_by_peer(int fd, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    if (left.count() < 0)
      return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
      return false;
    char buf[4096];
    if (::recv(fd, buf, sizeof(buf), 0) <= 0)
      return true;
  }
}

std::vector<socket_fd> idle_sockets(std::uint16_t port, std::size_t n,
                                    const std::string& source) {
  std::vector<socket_fd> out;
  for (std::size_t i = 0; i < n; ++i) {
    auto fd = tcp_connect(port, source);
    if (!fd.valid())
      break;
    out.push_back(std::move(fd));
  }
  return out;
}

std::size_t closed_count(const std::vector<socket_fd>& fds) {
  std::size_t n = 0;
  for (const auto& fd : fds)
    if (closed_by_peer(fd.get(), std::chrono::milliseconds{0}))
      ++n;
  return n;
}

std::size_t raise_fd_limit() {
  return static_cast<std::size_t>(process::raise_fd_limit().soft);
}

} // namespace istio_csr::test
