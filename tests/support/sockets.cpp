#include "tests/support/sockets.hpp"

#include "process/fd_limit.hpp"

#include <cstdlib>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
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

std::uint16_t free_port() {
  socket_fd s{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (!s.valid())
    return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
    return 0;
  socklen_t len = sizeof(addr);
  if (::getsockname(s.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    return 0;
  return ntohs(addr.sin_port);
}

int http_status(std::uint16_t port, const std::string& path) {
  auto s = tcp_connect(port);
  if (!s.valid())
    return -1;
  timeval tv{2, 0};
  ::setsockopt(s.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::setsockopt(s.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  auto req = "GET " + path
             + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  if (::send(s.get(), req.data(), req.size(), MSG_NOSIGNAL)
      != static_cast<ssize_t>(req.size()))
    return -1;
  std::string answer;
  char buf[512];
  while (answer.find("\r\n") == std::string::npos) {
    auto n = ::recv(s.get(), buf, sizeof(buf), 0);
    if (n <= 0)
      break;
    answer.append(buf, static_cast<size_t>(n));
  }
  // "HTTP/1.1 200 OK"
  auto sp = answer.find(' ');
  if (answer.rfind("HTTP/", 0) != 0 || sp == std::string::npos
      || answer.size() < sp + 4)
    return -1;
  return std::atoi(answer.substr(sp + 1, 3).c_str());
}

} // namespace istio_csr::test
