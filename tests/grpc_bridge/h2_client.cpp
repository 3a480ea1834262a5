#include "tests/grpc_bridge/h2_client.hpp"

#include <cerrno>
#include <csignal>

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>

#include "proto/ca.pb.h"
#include "tests/support/sockets.hpp"

namespace istio_csr::test::h2 {

namespace {

void put_u32(std::string& out, std::uint32_t x) {
  out += static_cast<char>(x >> 24);
  out += static_cast<char>(x >> 16);
  out += static_cast<char>(x >> 8);
  out += static_cast<char>(x);
}

} // namespace

std::string frame_header(std::uint32_t length, std::uint8_t type,
                         std::uint8_t flags, std::uint32_t stream) {
  std::string out;
  out += static_cast<char>(length >> 16);
  out += static_cast<char>(length >> 8);
  out += static_cast<char>(length);
  out += static_cast<char>(type);
  out += static_cast<char>(flags);
  put_u32(out, stream);
  return out;
}

std::string frame(std::uint8_t type, std::uint8_t flags, std::uint32_t stream,
                  std::string_view payload) {
  auto out = frame_header(static_cast<std::uint32_t>(payload.size()), type,
                          flags, stream);
  out += payload;
  return out;
}

std::string settings_frame(
  const std::vector<std::pair<std::uint16_t, std::uint32_t>>& values) {
  std::string payload;
  for (auto [id, value] : values) {
    payload += static_cast<char>(id >> 8);
    payload += static_cast<char>(id);
    put_u32(payload, value);
  }
  return frame(settings, 0, 0, payload);
}

std::string rst_stream_frame(std::uint32_t stream, std::uint32_t code) {
  std::string payload;
  put_u32(payload, code);
  return frame(rst_stream, 0, stream, payload);
}

std::string ping_frame(bool is_ack) {
  return frame(ping, is_ack ? ack : 0, 0, "pingpong");
}

std::string hpack_int(std::uint64_t value, int prefix_bits,
                      std::uint8_t first) {
  std::string out;
  std::uint64_t max_prefix = (1u << prefix_bits) - 1;
  if (value < max_prefix) {
    out += static_cast<char>(first | value);
    return out;
  }
  out += static_cast<char>(first | max_prefix);
  value -= max_prefix;
  while (value >= 128) {
    out += static_cast<char>((value % 128) | 0x80);
    value /= 128;
  }
  out += static_cast<char>(value);
  return out;
}

std::string hpack_literal(std::string_view name, std::string_view value) {
  std::string out(1, '\0');
  out += hpack_int(name.size(), 7);
  out += name;
  out += hpack_int(value.size(), 7);
  out += value;
  return out;
}

std::string request_headers(const std::string& token) {
  return hpack_literal(":method", "POST") + hpack_literal(":scheme", "http")
         + hpack_literal(
           ":path", "/istio.v1.auth.IstioCertificateService/CreateCertificate")
         + hpack_literal(":authority", "localhost")
         + hpack_literal("content-type", "application/grpc")
         + hpack_literal("te", "trailers")
         + hpack_literal("authorization", "Bearer " + token);
}

std::string request_message(const std::string& csr) {
  istio::v1::auth::IstioCertificateRequest req;
  req.set_csr(csr);
  req.set_validity_duration(3600);
  std::string body;
  req.SerializeToString(&body);
  std::string out(1, '\0');
  put_u32(out, static_cast<std::uint32_t>(body.size()));
  return out + body;
}

struct raw_client::impl {
  socket_fd fd;
  SSL_CTX* ctx = nullptr;
  SSL* ssl = nullptr;
  bool connected = false;
  // The server closed (EOF, reset or TLS error on reading).
  bool closed = false;
  // Writing failed: nothing more is sent, but what the server sent before
  // closing can still be read.
  bool write_failed = false;
  std::size_t sent = 0;
  std::string rx;
  std::vector<received_frame> frames;

  ~impl() {
    if (ssl != nullptr)
      SSL_free(ssl);
    if (ctx != nullptr)
      SSL_CTX_free(ctx);
  }

  void parse() {
    std::size_t pos = 0;
    while (rx.size() - pos >= 9) {
      auto u8 = [&](std::size_t i) {
        return static_cast<std::uint32_t>(static_cast<unsigned char>(rx[i]));
      };
      std::uint32_t len = (u8(pos) << 16) | (u8(pos + 1) << 8) | u8(pos + 2);
      if (rx.size() - pos - 9 < len)
        break;
      received_frame f;
      f.type = static_cast<std::uint8_t>(u8(pos + 3));
      f.flags = static_cast<std::uint8_t>(u8(pos + 4));
      f.stream = ((u8(pos + 5) & 0x7f) << 24) | (u8(pos + 6) << 16)
                 | (u8(pos + 7) << 8) | u8(pos + 8);
      f.payload = rx.substr(pos + 9, len);
      frames.push_back(std::move(f));
      pos += 9 + len;
    }
    rx.erase(0, pos);
  }

  // Reads whatever is available without blocking.
  void read_available() {
    char buf[16384];
    while (!closed) {
      auto n = SSL_read(ssl, buf, sizeof(buf));
      if (n > 0) {
        rx.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      auto err = SSL_get_error(ssl, n);
      if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
        break;
      // EOF, close_notify, reset or a TLS error: the connection is over.
      closed = true;
      ERR_clear_error();
    }
    parse();
  }

  // Waits up to `timeout` for the socket to be readable (or writable).
  bool wait(short events, std::chrono::milliseconds timeout) {
    pollfd p{fd.get(), events, 0};
    return ::poll(&p, 1, static_cast<int>(timeout.count())) > 0;
  }
};

raw_client::raw_client(std::uint16_t port, const std::string& ca_pem,
                       const std::string& server_name, const raw_options& opts)
  : impl_(std::make_unique<impl>()) {
  // Writing to a connection the server closed must fail, not kill the test.
  std::signal(SIGPIPE, SIG_IGN);
  auto& self = *impl_;
  self.fd = tcp_connect(port, opts.source, "127.0.0.1", opts.receive_buffer);
  if (!self.fd.valid())
    return;
  self.ctx = SSL_CTX_new(TLS_client_method());
  auto* bio = BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size()));
  X509* ca = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  X509_STORE_add_cert(SSL_CTX_get_cert_store(self.ctx), ca);
  X509_free(ca);
  SSL_CTX_set_verify(self.ctx, SSL_VERIFY_PEER, nullptr);
  static const unsigned char alpn[] = {2, 'h', '2'};
  SSL_CTX_set_alpn_protos(self.ctx, alpn, sizeof(alpn));
  self.ssl = SSL_new(self.ctx);
  SSL_set_tlsext_host_name(self.ssl, server_name.c_str());
  SSL_set1_host(self.ssl, server_name.c_str());
  SSL_set_mode(self.ssl, SSL_MODE_ENABLE_PARTIAL_WRITE);
  SSL_set_fd(self.ssl, self.fd.get());
  if (SSL_connect(self.ssl) != 1) {
    ERR_clear_error();
    return;
  }
  ::fcntl(self.fd.get(), F_SETFL, ::fcntl(self.fd.get(), F_GETFL) | O_NONBLOCK);
  self.connected = true;
}

raw_client::~raw_client() = default;

bool raw_client::connected() const noexcept {
  return impl_->connected;
}

std::size_t raw_client::send(std::string_view bytes,
                             std::chrono::milliseconds timeout) {
  auto& self = *impl_;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::size_t written = 0;
  while (self.connected && !self.closed && !self.write_failed
         && written < bytes.size()) {
    auto chunk = std::min<std::size_t>(bytes.size() - written, 16384);
    auto n
      = SSL_write(self.ssl, bytes.data() + written, static_cast<int>(chunk));
    if (n > 0) {
      written += static_cast<std::size_t>(n);
      self.sent += static_cast<std::size_t>(n);
      self.read_available();
      continue;
    }
    auto err = SSL_get_error(self.ssl, n);
    if (err != SSL_ERROR_WANT_WRITE && err != SSL_ERROR_WANT_READ) {
      self.write_failed = true;
      ERR_clear_error();
      self.read_available();
      break;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      break;
    self.wait(POLLIN | POLLOUT, std::min(left, 100ms));
    self.read_available();
  }
  return written;
}

bool raw_client::receive_until(const std::function<bool()>& done,
                               std::chrono::milliseconds timeout) {
  auto& self = *impl_;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  self.read_available();
  while (self.connected && !self.closed && !done()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      break;
    self.wait(POLLIN, std::min(left, 100ms));
    self.read_available();
  }
  return done();
}

bool raw_client::wait_closed(std::chrono::milliseconds timeout) {
  return receive_until([this] { return impl_->closed; }, timeout);
}

bool raw_client::closed() const noexcept {
  return impl_->closed;
}

std::optional<goaway_info> raw_client::goaway() const {
  for (const auto& f : impl_->frames) {
    if (f.type != h2::goaway || f.payload.size() < 8)
      continue;
    auto u32 = [&](std::size_t i) {
      auto b = [&](std::size_t j) {
        return static_cast<std::uint32_t>(
          static_cast<unsigned char>(f.payload[i + j]));
      };
      return (b(0) << 24) | (b(1) << 16) | (b(2) << 8) | b(3);
    };
    return goaway_info{u32(0) & 0x7fffffff, u32(4)};
  }
  return std::nullopt;
}

const std::vector<received_frame>& raw_client::frames() const noexcept {
  return impl_->frames;
}

std::size_t raw_client::bytes_sent() const noexcept {
  return impl_->sent;
}

} // namespace istio_csr::test::h2
