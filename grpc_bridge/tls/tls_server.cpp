#include "grpc_bridge/tls/tls_server.hpp"

#include <array>
#include <atomic>
#include <future>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <openssl/ssl.h>

#include "caf/sec.hpp"

#include "grpc_bridge/tls/tls_context.hpp"
#include "logging/logging.hpp"
#include "pki/certificate.hpp"

namespace istio_csr::grpc_bridge {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using unix_stream = boost::asio::local::stream_protocol;
using boost::system::error_code;

namespace {

class connection;

std::string endpoint_text(const tcp::endpoint& ep) {
  auto addr = ep.address();
  auto host = addr.to_string();
  if (addr.is_v6())
    host = "[" + host + "]";
  return host + ":" + std::to_string(ep.port());
}

caf::error invalid(std::string text) {
  return caf::make_error(caf::sec::invalid_argument, std::move(text));
}

} // namespace

struct tls_server::impl {
  tls_server_settings settings;
  ready_handler on_ready;
  closed_handler on_closed;
  std::shared_ptr<spdlog::logger> log = logging::get("grpc-server");

  asio::io_context io;
  asio::strand<asio::io_context::executor_type> accept_strand{
    asio::make_strand(io)};
  tcp::acceptor acceptor{accept_strand};
  asio::steady_timer accept_retry{accept_strand};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>>
    work;
  std::vector<std::thread> threads;

  std::atomic<std::uint16_t> port{0};
  std::atomic<bool> accepting{false};
  std::atomic<bool> started{false};
  std::atomic<bool> stopped{false};
  std::mutex stop_mtx;

  mutable std::mutex ctx_mtx;
  std::shared_ptr<const tls_context> ctx;

  std::atomic<std::uint64_t> next_id{1};
  std::atomic<std::size_t> connections{0};
  std::atomic<std::size_t> handshaking{0};
  std::mutex conns_mtx;
  std::unordered_map<std::uint64_t, std::weak_ptr<connection>> conns;

  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> rejected{0};
  std::atomic<std::uint64_t> handshakes_ok{0};
  std::atomic<std::uint64_t> handshakes_failed{0};
  std::atomic<std::uint64_t> closed{0};
  std::atomic<std::uint64_t> bytes_in{0};
  std::atomic<std::uint64_t> bytes_out{0};

  std::shared_ptr<const tls_context> current_context() const {
    std::lock_guard<std::mutex> guard{ctx_mtx};
    return ctx;
  }

  void do_accept();
  void on_accept(const error_code& ec, tcp::socket sock);

  // Runs `f` on every live connection's strand.
  template <class F>
  void for_each_connection(F f);
};

namespace {

/// One client connection: handshake, then the two pumps.
class connection : public std::enable_shared_from_this<connection> {
 public:
  connection(tls_server::impl& srv, tcp::socket sock,
             std::shared_ptr<const tls_context> ctx, std::uint64_t id)
    : srv_(srv), ctx_(std::move(ctx)), id_(id), executor_(sock.get_executor()),
      tls_(std::move(sock), ctx_->asio_context()), local_(executor_),
      timer_(executor_) {
    error_code ec;
    auto ep = tls_.next_layer().remote_endpoint(ec);
    if (!ec)
      remote_ = endpoint_text(ep);
  }

  ~connection() {
    if (state_ == state::handshaking)
      --srv_.handshaking;
    --srv_.connections;
    std::lock_guard<std::mutex> guard{srv_.conns_mtx};
    srv_.conns.erase(id_);
  }

  const asio::any_io_executor& executor() const noexcept {
    return executor_;
  }

  void start() {
    timer_.expires_after(srv_.settings.handshake_timeout);
    timer_.async_wait([self = shared_from_this()](const error_code& ec) {
      if (!ec && self->state_ == state::handshaking) {
        self->timed_out_ = true;
        self->close();
      }
    });
    tls_.async_handshake(ssl::stream_base::server,
                         [self = shared_from_this()](const error_code& ec) {
                           self->on_handshake(ec);
                         });
  }

  /// Closes the connection if it has not finished its handshake.
  void drop_if_handshaking() {
    if (state_ == state::handshaking)
      close();
  }

  void close() {
    if (closed_)
      return;
    closed_ = true;
    error_code ignored;
    timer_.cancel();
    tls_.next_layer().shutdown(tcp::socket::shutdown_both, ignored);
    tls_.next_layer().close(ignored);
    local_.close(ignored);
    if (state_ == state::established) {
      ++srv_.closed;
      if (srv_.on_closed)
        srv_.on_closed(grpc_fd_, info_);
    }
  }

 private:
  enum class state { handshaking, established, failed };

  void fail_handshake(const std::string& reason) {
    state_ = state::failed;
    --srv_.handshaking;
    ++srv_.handshakes_failed;
    logging::debug(*srv_.log, "TLS handshake failed",
                   {{"remote", remote_}, {"reason", reason}});
    close();
  }

  void on_handshake(const error_code& ec) {
    if (state_ != state::handshaking)
      return;
    if (ec || closed_) {
      fail_handshake(timed_out_ ? std::string{"handshake timeout"}
                     : ec       ? ec.message()
                                : std::string{"connection closed"});
      return;
    }
    if (!srv_.accepting) {
      fail_handshake("server shutting down");
      return;
    }
    timer_.cancel();
    auto info = std::make_shared<connection_info>();
    info->id = id_;
    info->remote = remote_;
    if (X509* peer = SSL_get0_peer_certificate(tls_.native_handle());
        peer != nullptr && X509_up_ref(peer) == 1) {
      auto leaf = pki::certificate::adopt(pki::x509_ptr{peer});
      auto identity = check_client_leaf(leaf, ctx_->trust_domain());
      if (!identity) {
        // Cannot happen: the verify callback applied the same rules.
        fail_handshake("client certificate rejected");
        return;
      }
      info->client_cert = std::move(*identity);
    }
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
      fail_handshake("socketpair failed");
      return;
    }
    // grpc requires a non-blocking descriptor (a blocking one stalls it).
    ::fcntl(fds[1], F_SETFL, ::fcntl(fds[1], F_GETFL) | O_NONBLOCK);
    error_code aec;
    local_.assign(unix_stream{}, fds[0], aec);
    if (aec) {
      ::close(fds[0]);
      ::close(fds[1]);
      fail_handshake("cannot assign the local socket");
      return;
    }
    state_ = state::established;
    --srv_.handshaking;
    ++srv_.handshakes_ok;
    grpc_fd_ = fds[1];
    info_ = std::move(info);
    last_activity_ = std::chrono::steady_clock::now();
    arm_idle_timer(srv_.settings.idle_timeout);
    // From here on grpc owns fds[1].
    srv_.on_ready(fds[1], info_);
    pump_in();
    pump_out();
  }

  void arm_idle_timer(std::chrono::steady_clock::duration after) {
    timer_.expires_after(after);
    timer_.async_wait([self = shared_from_this()](const error_code& ec) {
      if (ec || self->closed_)
        return;
      auto idle = std::chrono::steady_clock::now() - self->last_activity_;
      auto limit = self->srv_.settings.idle_timeout;
      if (idle >= limit) {
        logging::debug(*self->srv_.log, "closing idle connection",
                       {{"remote", self->remote_}});
        self->close();
      } else {
        self->arm_idle_timer(limit - idle);
      }
    });
  }

  // TLS → gRPC.
  void pump_in() {
    tls_.async_read_some(
      asio::buffer(in_buf_),
      [self = shared_from_this()](const error_code& ec, std::size_t n) {
        if (ec) {
          self->close();
          return;
        }
        self->srv_.bytes_in += n;
        self->last_activity_ = std::chrono::steady_clock::now();
        asio::async_write(self->local_, asio::buffer(self->in_buf_, n),
                          [self](const error_code& ec, std::size_t) {
                            if (ec)
                              self->close();
                            else
                              self->pump_in();
                          });
      });
  }

  // gRPC → TLS. EOF here means grpc closed the connection; everything it
  // wrote before has been forwarded by then.
  void pump_out() {
    local_.async_read_some(
      asio::buffer(out_buf_),
      [self = shared_from_this()](const error_code& ec, std::size_t n) {
        if (ec) {
          self->close();
          return;
        }
        self->last_activity_ = std::chrono::steady_clock::now();
        asio::async_write(self->tls_, asio::buffer(self->out_buf_, n),
                          [self](const error_code& ec, std::size_t n) {
                            self->srv_.bytes_out += n;
                            if (ec)
                              self->close();
                            else
                              self->pump_out();
                          });
      });
  }

  tls_server::impl& srv_;
  std::shared_ptr<const tls_context> ctx_;
  std::uint64_t id_;
  asio::any_io_executor executor_;
  ssl::stream<tcp::socket> tls_;
  unix_stream::socket local_;
  asio::steady_timer timer_;
  std::string remote_ = "unknown";
  state state_ = state::handshaking;
  bool closed_ = false;
  bool timed_out_ = false;
  int grpc_fd_ = -1;
  std::shared_ptr<const connection_info> info_;
  std::chrono::steady_clock::time_point last_activity_;
  std::array<char, 16 * 1024> in_buf_;
  std::array<char, 16 * 1024> out_buf_;
};

} // namespace

template <class F>
void tls_server::impl::for_each_connection(F f) {
  std::vector<std::shared_ptr<connection>> live;
  {
    std::lock_guard<std::mutex> guard{conns_mtx};
    for (auto& [id, weak] : conns)
      if (auto conn = weak.lock())
        live.push_back(std::move(conn));
  }
  for (auto& conn : live)
    asio::post(conn->executor(), [conn, f] { f(*conn); });
}

void tls_server::impl::do_accept() {
  acceptor.async_accept(asio::make_strand(io),
                        [this](const error_code& ec, tcp::socket sock) {
                          on_accept(ec, std::move(sock));
                        });
}

void tls_server::impl::on_accept(const error_code& ec, tcp::socket sock) {
  if (!accepting)
    return;
  if (ec) {
    if (ec == asio::error::operation_aborted)
      return;
    // Out of descriptors or similar: retry shortly instead of spinning.
    logging::warn(*log, "accept failed", {{"reason", ec.message()}});
    accept_retry.expires_after(std::chrono::milliseconds{100});
    accept_retry.async_wait([this](const error_code& ec) {
      if (!ec && accepting)
        do_accept();
    });
    return;
  }
  ++accepted;
  auto current = current_context();
  if (!current || connections >= settings.max_connections
      || handshaking >= settings.max_handshakes) {
    ++rejected;
    error_code ignored;
    sock.close(ignored);
    do_accept();
    return;
  }
  error_code ignored;
  sock.set_option(tcp::no_delay{true}, ignored);
  ++connections;
  ++handshaking;
  auto id = next_id++;
  auto conn = std::make_shared<connection>(*this, std::move(sock),
                                           std::move(current), id);
  {
    std::lock_guard<std::mutex> guard{conns_mtx};
    conns.emplace(id, conn);
  }
  asio::dispatch(conn->executor(), [conn] { conn->start(); });
  do_accept();
}

tls_server::tls_server(tls_server_settings settings, ready_handler on_ready,
                       closed_handler on_closed)
  : impl_(std::make_unique<impl>()) {
  impl_->settings = std::move(settings);
  impl_->on_ready = std::move(on_ready);
  impl_->on_closed = std::move(on_closed);
}

tls_server::~tls_server() {
  stop();
}

caf::error tls_server::start() {
  auto& self = *impl_;
  if (self.started.exchange(true))
    return invalid("the TLS server was already started");
  const auto& address = self.settings.address;
  auto colon = address.rfind(':');
  if (colon == std::string::npos)
    return invalid("serving address must be host:port: " + address);
  auto host = address.substr(0, colon);
  auto port_text = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  unsigned long port_number = 0;
  try {
    size_t used = 0;
    port_number = std::stoul(port_text, &used);
    if (used != port_text.size() || port_number > 65535)
      throw std::invalid_argument{"port"};
  } catch (const std::exception&) {
    return invalid("invalid port in serving address: " + address);
  }
  error_code ec;
  tcp::endpoint endpoint;
  if (host.empty()) {
    endpoint
      = tcp::endpoint{tcp::v4(), static_cast<unsigned short>(port_number)};
  } else if (auto addr = asio::ip::make_address(host, ec); !ec) {
    endpoint = tcp::endpoint{addr, static_cast<unsigned short>(port_number)};
  } else {
    tcp::resolver resolver{self.io};
    auto results = resolver.resolve(host, port_text, ec);
    if (ec || results.empty())
      return invalid("cannot resolve serving address " + address);
    endpoint = *results.begin();
  }
  self.acceptor.open(endpoint.protocol(), ec);
  if (!ec)
    self.acceptor.set_option(tcp::acceptor::reuse_address{true}, ec);
  if (!ec)
    self.acceptor.bind(endpoint, ec);
  if (!ec)
    self.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return caf::make_error(caf::sec::runtime_error,
                           "cannot listen on " + address + ": " + ec.message());
  self.port = self.acceptor.local_endpoint().port();
  self.accepting = true;
  self.work.emplace(self.io.get_executor());
  asio::post(self.accept_strand, [&self] { self.do_accept(); });
  auto n = std::max<std::size_t>(1, self.settings.threads);
  for (std::size_t i = 0; i < n; ++i)
    self.threads.emplace_back([&self] { self.io.run(); });
  logging::info(
    *self.log, "listening",
    {{"serving-addr", endpoint_text(self.acceptor.local_endpoint())}});
  return {};
}

std::uint16_t tls_server::port() const noexcept {
  return impl_->port;
}

void tls_server::set_context(std::shared_ptr<const tls_context> ctx) {
  std::lock_guard<std::mutex> guard{impl_->ctx_mtx};
  impl_->ctx = std::move(ctx);
}

std::shared_ptr<const tls_context> tls_server::context() const {
  return impl_->current_context();
}

bool tls_server::listening() const noexcept {
  return impl_->accepting;
}

void tls_server::stop_accepting() {
  auto& self = *impl_;
  if (!self.accepting.exchange(false))
    return;
  std::promise<void> done;
  asio::post(self.accept_strand, [&self, &done] {
    error_code ignored;
    self.acceptor.close(ignored);
    self.accept_retry.cancel();
    done.set_value();
  });
  done.get_future().wait();
  self.for_each_connection([](connection& c) { c.drop_if_handshaking(); });
}

void tls_server::stop() {
  auto& self = *impl_;
  std::lock_guard<std::mutex> guard{self.stop_mtx};
  if (self.stopped.exchange(true))
    return;
  if (!self.started) {
    error_code ignored;
    self.acceptor.close(ignored);
    return;
  }
  stop_accepting();
  self.for_each_connection([](connection& c) { c.close(); });
  self.work.reset();
  // Every pending operation completes (aborted) and every connection is
  // released before the threads return.
  for (auto& t : self.threads)
    t.join();
  self.threads.clear();
}

tls_server_stats tls_server::stats() const {
  auto& self = *impl_;
  tls_server_stats result;
  result.accepted = self.accepted;
  result.rejected = self.rejected;
  result.handshakes_ok = self.handshakes_ok;
  result.handshakes_failed = self.handshakes_failed;
  result.closed = self.closed;
  result.active = self.connections;
  result.bytes_in = self.bytes_in;
  result.bytes_out = self.bytes_out;
  return result;
}

} // namespace istio_csr::grpc_bridge
