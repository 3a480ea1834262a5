#include "grpc_bridge/tls/tls_server.hpp"

#include <array>
#include <atomic>
#include <future>
#include <mutex>
#include <span>
#include <string_view>
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
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "caf/sec.hpp"

#include "grpc_bridge/tls/admission.hpp"
#include "grpc_bridge/tls/h2_frame_tracker.hpp"
#include "grpc_bridge/tls/h2_frames.hpp"
#include "grpc_bridge/tls/tls_context.hpp"
#include "logging/logging.hpp"
#include "metrics/istio_csr.hpp"
#include "pki/certificate.hpp"

namespace istio_csr::grpc_bridge {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using unix_stream = boost::asio::local::stream_protocol;
using boost::system::error_code;

namespace {

class connection;

// grpc::StatusCode::RESOURCE_EXHAUSTED, for responses the TLS front makes.
constexpr int grpc_resource_exhausted = 8;

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

// The per-source key of a connection: its address, IPv4-mapped IPv6
// addresses as IPv4.
std::string source_key(const asio::ip::address& addr) {
  if (addr.is_v6() && addr.to_v6().is_v4_mapped())
    return asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6())
      .to_string();
  return addr.to_string();
}

/// The bounded `reason` label of a failed handshake
/// (`istio_csr_tls_handshake_failures_total`): what users asked upstream
/// for (its issue #65), failures that never reach the gRPC handler.
std::string_view handshake_failure_reason(const error_code& ec) {
  if (ec == asio::error::eof || ec == asio::error::connection_reset
      || ec == ssl::error::stream_truncated || ec == asio::error::broken_pipe)
    return "connection_closed";
  if (ec.category() != asio::error::get_ssl_category())
    return "io_error";
  switch (ERR_GET_REASON(static_cast<unsigned long>(ec.value()))) {
    case SSL_R_NO_SHARED_CIPHER:
    case SSL_R_NO_SHARED_GROUPS:
    case SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM: return "no_shared_cipher";
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_VERSION_TOO_LOW:
    case SSL_R_VERSION_TOO_HIGH: return "protocol_version";
    case SSL_R_HTTP_REQUEST:
    case SSL_R_HTTPS_PROXY_REQUEST: return "not_tls";
    case SSL_R_CERTIFICATE_VERIFY_FAILED:
    case SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE: return "client_certificate";
    case SSL_R_NO_APPLICATION_PROTOCOL: return "alpn";
    default: return "tls_error";
  }
}

} // namespace

struct tls_server::impl {
  tls_server_settings settings;
  ready_handler on_ready;
  closed_handler on_closed;
  std::shared_ptr<spdlog::logger> log = logging::get("grpc-server");

  // Which connections may stay and which may handshake; every connection
  // reports its first bytes, its handshake and its end here.
  admission slots;

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
  std::atomic<bool> joined{false};
  std::mutex stop_mtx;

  mutable std::mutex ctx_mtx;
  std::shared_ptr<const tls_context> ctx;

  std::atomic<std::uint64_t> next_id{1};
  std::atomic<std::size_t> connections{0};
  std::mutex conns_mtx;
  std::unordered_map<std::uint64_t, std::weak_ptr<connection>> conns;

  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> rejected{0};
  std::atomic<std::uint64_t> evicted{0};
  std::atomic<std::uint64_t> silent_timeouts{0};
  std::atomic<std::uint64_t> handshakes_ok{0};
  std::atomic<std::uint64_t> handshakes_failed{0};
  std::atomic<std::uint64_t> h2_violations{0};
  std::atomic<std::uint64_t> request_timeouts{0};
  std::atomic<std::uint64_t> closed{0};
  std::atomic<std::uint64_t> bytes_in{0};
  std::atomic<std::uint64_t> bytes_out{0};

  explicit impl(tls_server_settings s)
    : settings(std::move(s)),
      slots(admission_limits{settings.max_connections, settings.max_handshakes,
                             settings.max_pending_per_source}) {}

  std::shared_ptr<const tls_context> current_context() const {
    std::lock_guard<std::mutex> guard{ctx_mtx};
    return ctx;
  }

  void do_accept();
  void on_accept(const error_code& ec, tcp::socket sock);

  // Carries out what `slots` decided: closes evicted connections, starts
  // the handshakes of those granted a slot.
  void apply(const admission::actions& todo);

  // Runs `f` on every live connection's strand.
  template <class F>
  void for_each_connection(F f);

  // Runs `f` on the strand of connection `id`, if it is still alive.
  template <class F>
  void with_connection(std::uint64_t id, F f);
};

namespace {

/// One client connection: waiting for its first bytes, waiting for a
/// handshake slot, handshake, then the two pumps; after an HTTP/2 violation,
/// the GOAWAY and a bounded drain.
class connection : public std::enable_shared_from_this<connection> {
 public:
  connection(tls_server::impl& srv, tcp::socket sock,
             std::shared_ptr<const tls_context> ctx, std::uint64_t id)
    : srv_(srv), ctx_(std::move(ctx)), id_(id), executor_(sock.get_executor()),
      tls_(std::move(sock), ctx_->asio_context()), local_(executor_),
      timer_(executor_), request_timer_(executor_),
      inspector_(srv.settings.h2) {
    error_code ec;
    auto ep = tls_.next_layer().remote_endpoint(ec);
    if (!ec)
      remote_ = endpoint_text(ep);
  }

  ~connection() {
    release_slot();
    --srv_.connections;
    std::lock_guard<std::mutex> guard{srv_.conns_mtx};
    srv_.conns.erase(id_);
  }

  const asio::any_io_executor& executor() const noexcept {
    return executor_;
  }

  /// Waits for the first bytes; no handshake slot until they arrive.
  void start() {
    arm_timer(srv_.settings.first_bytes_timeout, [](connection& c) {
      if (c.state_ != state::silent)
        return;
      ++c.srv_.silent_timeouts;
      logging::debug(*c.srv_.log, "closing a connection that sent nothing",
                     {{"remote", c.remote_}});
      c.close();
    });
    tls_.next_layer().async_wait(
      tcp::socket::wait_read,
      [self = shared_from_this()](const error_code& ec) {
        self->on_first_bytes(ec);
      });
  }

  /// A handshake slot was granted to this waiting connection.
  void slot_granted() {
    if (!closed_ && state_ == state::waiting)
      begin_handshake();
  }

  /// Closed to make room for a newcomer.
  void evict() {
    if (closed_)
      return;
    ++srv_.evicted;
    metrics::ours().tls_handshake_failures("evicted").inc();
    logging::debug(*srv_.log, "evicting a connection not established yet",
                   {{"remote", remote_}});
    close();
  }

  /// Closes the connection if it is not established yet.
  void drop_if_not_established() {
    if (state_ == state::silent || state_ == state::waiting
        || state_ == state::handshaking)
      close();
  }

  void close() {
    if (closed_)
      return;
    closed_ = true;
    error_code ignored;
    timer_.cancel();
    request_timer_.cancel();
    tls_.next_layer().shutdown(tcp::socket::shutdown_both, ignored);
    tls_.next_layer().close(ignored);
    local_.close(ignored);
    release_slot();
    if (handed_to_grpc_) {
      ++srv_.closed;
      if (srv_.on_closed)
        srv_.on_closed(grpc_fd_, info_);
    }
  }

 private:
  enum class state { silent, waiting, handshaking, established, failed };

  // One timer serves every state; re-arming makes a pending expiry stale.
  template <class F>
  void arm_timer(std::chrono::steady_clock::duration after, F on_expiry) {
    auto generation = ++timer_generation_;
    timer_.expires_after(after);
    timer_.async_wait([self = shared_from_this(), generation,
                       on_expiry = std::move(on_expiry)](const error_code& ec) {
      if (!ec && !self->closed_ && generation == self->timer_generation_)
        on_expiry(*self);
    });
  }

  void release_slot() {
    if (slot_released_)
      return;
    slot_released_ = true;
    srv_.apply(srv_.slots.closed(id_));
  }

  void on_first_bytes(const error_code& ec) {
    if (closed_ || state_ != state::silent)
      return;
    if (ec) {
      close();
      return;
    }
    state_ = state::waiting;
    // The handshake deadline includes any wait for a slot.
    arm_timer(srv_.settings.handshake_timeout, [](connection& c) {
      if (c.state_ == state::waiting || c.state_ == state::handshaking)
        c.fail_handshake("handshake timeout", "timeout");
    });
    if (srv_.slots.first_bytes(id_))
      begin_handshake();
    // Else a slot comes through `slot_granted` (or an eviction).
  }

  void begin_handshake() {
    state_ = state::handshaking;
    tls_.async_handshake(ssl::stream_base::server,
                         [self = shared_from_this()](const error_code& ec) {
                           self->on_handshake(ec);
                         });
  }

  /// `kind`: the metric's bounded reason; `reason`: the detail for logs.
  void fail_handshake(const std::string& reason, std::string_view kind) {
    state_ = state::failed;
    ++srv_.handshakes_failed;
    metrics::ours().tls_handshake_failures(kind).inc();
    logging::debug(*srv_.log, "TLS handshake failed",
                   {{"remote", remote_}, {"reason", reason}});
    close();
  }

  void on_handshake(const error_code& ec) {
    if (state_ != state::handshaking || closed_)
      return;
    if (ec) {
      fail_handshake(ec.message(), handshake_failure_reason(ec));
      return;
    }
    if (!srv_.accepting) {
      fail_handshake("server shutting down", "shutting_down");
      return;
    }
    auto info = std::make_shared<connection_info>();
    info->id = id_;
    info->remote = remote_;
    if (X509* peer = SSL_get0_peer_certificate(tls_.native_handle());
        peer != nullptr && X509_up_ref(peer) == 1) {
      auto leaf = pki::certificate::adopt(pki::x509_ptr{peer});
      auto identity = check_client_leaf(leaf, ctx_->trust_domain());
      if (!identity) {
        // Cannot happen: the verify callback applied the same rules.
        fail_handshake("client certificate rejected", "client_certificate");
        return;
      }
      info->client_cert = std::move(*identity);
    }
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
      fail_handshake("socketpair failed", "internal");
      return;
    }
    // grpc requires a non-blocking descriptor (a blocking one stalls it).
    ::fcntl(fds[1], F_SETFL, ::fcntl(fds[1], F_GETFL) | O_NONBLOCK);
    error_code aec;
    local_.assign(unix_stream{}, fds[0], aec);
    if (aec) {
      ::close(fds[0]);
      ::close(fds[1]);
      fail_handshake("cannot assign the local socket", "internal");
      return;
    }
    state_ = state::established;
    ++srv_.handshakes_ok;
    srv_.apply(srv_.slots.established(id_));
    grpc_fd_ = fds[1];
    info_ = std::move(info);
    handed_to_grpc_ = true;
    last_activity_ = std::chrono::steady_clock::now();
    established_at_ = last_activity_;
    arm_idle_timer(srv_.settings.idle_timeout);
    watch_requests();
    // From here on grpc owns fds[1].
    srv_.on_ready(fds[1], info_);
    pump_in();
    pump_out();
  }

  void arm_idle_timer(std::chrono::steady_clock::duration after) {
    arm_timer(after, [](connection& c) {
      auto idle = std::chrono::steady_clock::now() - c.last_activity_;
      auto limit = c.srv_.settings.idle_timeout;
      if (idle >= limit) {
        logging::debug(*c.srv_.log, "closing idle connection",
                       {{"remote", c.remote_}});
        c.close();
      } else {
        c.arm_idle_timer(limit - idle);
      }
    });
  }

  // When the client must have sent what it started: its preface, else its
  // oldest unfinished request (none if neither is pending).
  std::optional<std::chrono::steady_clock::time_point>
  request_deadline() const {
    auto limit = srv_.settings.request_read_timeout;
    if (!inspector_.preface_received())
      return established_at_ + limit;
    if (auto oldest = inspector_.oldest_request())
      return *oldest + limit;
    return std::nullopt;
  }

  // Keeps `request_timer_` armed while something is pending. Deadlines only
  // grow (new streams open later than older ones), so an armed timer is
  // never late; one that fires early re-arms itself.
  void watch_requests() {
    if (request_timer_armed_ || closing_ || closed_)
      return;
    auto deadline = request_deadline();
    if (!deadline)
      return;
    request_timer_armed_ = true;
    request_timer_.expires_at(*deadline);
    request_timer_.async_wait(
      [self = shared_from_this()](const error_code& ec) {
        self->request_timer_armed_ = false;
        if (ec || self->closed_ || self->closing_)
          return;
        auto deadline = self->request_deadline();
        if (deadline && *deadline <= std::chrono::steady_clock::now())
          self->on_request_timeout();
        else
          self->watch_requests();
      });
  }

  void on_request_timeout() {
    ++srv_.request_timeouts;
    auto limit
      = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                         srv_.settings.request_read_timeout)
                         .count())
        + "s";
    if (!inspector_.preface_received())
      on_violation(
        h2_violation::of(h2::error_code::enhance_your_calm,
                         "no HTTP/2 connection preface within " + limit));
    else
      on_violation(h2_violation::of(
        h2::error_code::enhance_your_calm,
        "stream " + std::to_string(inspector_.oldest_request_stream())
          + " did not send its whole request within " + limit + " ("
          + std::to_string(inspector_.receiving_streams())
          + " streams unfinished)"));
  }

  // TLS → inspector → gRPC. Stops for good at a violation.
  void pump_in() {
    in_reading_ = true;
    tls_.async_read_some(
      asio::buffer(in_buf_),
      [self = shared_from_this()](const error_code& ec, std::size_t n) {
        self->in_reading_ = false;
        if (self->closed_)
          return;
        if (self->closing_) {
          // A request deadline passed while this read was pending: what
          // it read is dropped, and it goes on as the drain.
          self->drained_ += n;
          if (ec)
            self->close();
          else if (self->goaway_sent_)
            self->drain();
          return;
        }
        if (ec) {
          self->close();
          return;
        }
        self->srv_.bytes_in += n;
        auto now = std::chrono::steady_clock::now();
        self->last_activity_ = now;
        auto bytes = std::as_bytes(std::span{self->in_buf_.data(), n});
        auto verdict = self->inspector_.feed(bytes, now);
        bool go_on = !verdict.violation;
        if (verdict.violation)
          self->on_violation(*verdict.violation);
        else
          self->watch_requests();
        if (verdict.held.empty() && verdict.forward == 0) {
          if (go_on)
            self->pump_in();
          return;
        }
        // `held` stays valid until the next feed, after this write.
        std::array<asio::const_buffer, 2> out{
          asio::buffer(verdict.held.data(), verdict.held.size()),
          asio::buffer(self->in_buf_.data(), verdict.forward)};
        asio::async_write(self->local_, out,
                          [self, go_on](const error_code& ec, std::size_t) {
                            if (self->closing_)
                              return;
                            if (ec)
                              self->close();
                            else if (go_on)
                              self->pump_in();
                          });
      });
  }

  // gRPC → TLS, frame boundaries tracked. EOF here means grpc closed the
  // connection; everything it wrote before has been forwarded by then.
  void pump_out() {
    out_reading_ = true;
    local_.async_read_some(
      asio::buffer(out_buf_),
      [self = shared_from_this()](const error_code& ec, std::size_t n) {
        self->out_reading_ = false;
        if (self->closed_ || self->goaway_sent_)
          return;
        if (ec) {
          if (self->closing_ && self->out_frames_.at_boundary())
            self->send_goaway();
          else
            self->close();
          return;
        }
        self->last_activity_ = std::chrono::steady_clock::now();
        auto bytes = std::as_bytes(std::span{self->out_buf_.data(), n});
        if (self->closing_) {
          // Only up to the end of grpc's current frame.
          if (auto end = self->out_frames_.next_boundary(bytes))
            bytes = bytes.first(*end);
        }
        self->out_frames_.consume(bytes, [&](const h2::frame_header& h) {
          self->inspector_.server_frame(h);
        });
        asio::async_write(
          self->tls_, asio::buffer(self->out_buf_.data(), bytes.size()),
          [self](const error_code& ec, std::size_t n) {
            self->srv_.bytes_out += n;
            if (self->closed_)
              return;
            if (ec)
              self->close();
            else if (self->closing_ && self->out_frames_.at_boundary())
              self->send_goaway();
            else
              self->pump_out();
          });
      });
  }

  // Client bytes no longer reach grpc; the GOAWAY goes out at grpc's next
  // frame boundary (at once if the out pump is between frames and idle).
  void on_violation(const h2_violation& v) {
    closing_ = true;
    ++srv_.h2_violations;
    goaway_ = h2::make_goaway(inspector_.last_stream_id(), v.code);
    if (v.refuse_stream != 0)
      refusal_ = h2::make_grpc_trailers_only(
        v.refuse_stream, grpc_resource_exhausted, v.refusal);
    logging::warn(*srv_.log, "HTTP/2 limit violated, closing the connection",
                  {{"remote", remote_},
                   {"violation", v.what},
                   {"goaway-error-code",
                    std::to_string(static_cast<std::uint32_t>(v.code))}});
    arm_timer(srv_.settings.goaway_timeout, [](connection& c) { c.close(); });
    if (out_reading_ && out_frames_.at_boundary())
      send_goaway();
  }

  void send_goaway() {
    goaway_sent_ = true;
    error_code ignored;
    // grpc is done with: its pending read and write are cancelled.
    local_.close(ignored);
    goaway_out_.clear();
    if (out_frames_.consumed() == 0) {
      // grpc wrote nothing yet: the server preface must come first.
      auto settings = h2::make_empty_settings();
      goaway_out_.assign(settings.begin(), settings.end());
    }
    // RESOURCE_EXHAUSTED for the stream whose metadata broke the limit.
    goaway_out_.insert(goaway_out_.end(), refusal_.begin(), refusal_.end());
    goaway_out_.insert(goaway_out_.end(), goaway_.begin(), goaway_.end());
    asio::async_write(
      tls_, asio::buffer(goaway_out_),
      [self = shared_from_this()](const error_code& ec, std::size_t n) {
        self->srv_.bytes_out += n;
        if (self->closed_)
          return;
        if (ec) {
          self->close();
          return;
        }
        error_code ignored;
        self->tls_.next_layer().shutdown(tcp::socket::shutdown_send, ignored);
        // A read still pending in the in pump drains when it completes.
        if (!self->in_reading_)
          self->drain();
      });
  }

  // Reads and drops what the client still sends, until it closes, the
  // drain limit or the GOAWAY timeout.
  void drain() {
    tls_.next_layer().async_read_some(
      asio::buffer(in_buf_),
      [self = shared_from_this()](const error_code& ec, std::size_t n) {
        if (self->closed_)
          return;
        self->drained_ += n;
        if (ec || self->drained_ >= self->srv_.settings.goaway_drain_bytes)
          self->close();
        else
          self->drain();
      });
  }

  tls_server::impl& srv_;
  std::shared_ptr<const tls_context> ctx_;
  std::uint64_t id_;
  asio::any_io_executor executor_;
  ssl::stream<tcp::socket> tls_;
  unix_stream::socket local_;
  asio::steady_timer timer_;
  std::uint64_t timer_generation_ = 0;
  // The request deadlines (`watch_requests`), beside the state timer.
  asio::steady_timer request_timer_;
  bool request_timer_armed_ = false;
  std::chrono::steady_clock::time_point established_at_;
  std::string remote_ = "unknown";
  state state_ = state::silent;
  bool closed_ = false;
  bool slot_released_ = false;
  bool handed_to_grpc_ = false;
  int grpc_fd_ = -1;
  std::shared_ptr<const connection_info> info_;
  std::chrono::steady_clock::time_point last_activity_;
  h2_inspector inspector_;
  h2_frame_tracker out_frames_;
  bool out_reading_ = false;
  bool in_reading_ = false;
  bool closing_ = false;
  bool goaway_sent_ = false;
  h2::goaway_frame goaway_{};
  std::vector<std::byte> refusal_;
  // What goes out after grpc's last frame: [SETTINGS] [refusal] GOAWAY.
  std::vector<std::byte> goaway_out_;
  std::size_t drained_ = 0;
  std::array<char, 16 * 1024> in_buf_;
  std::array<char, 16 * 1024> out_buf_;
};

} // namespace

void tls_server::impl::apply(const admission::actions& todo) {
  // Connections released after the I/O threads ended post nothing.
  if (joined)
    return;
  for (auto id : todo.evicted)
    with_connection(id, [](connection& c) { c.evict(); });
  for (auto id : todo.granted)
    with_connection(id, [](connection& c) { c.slot_granted(); });
}

template <class F>
void tls_server::impl::with_connection(std::uint64_t id, F f) {
  std::shared_ptr<connection> conn;
  {
    std::lock_guard<std::mutex> guard{conns_mtx};
    if (auto i = conns.find(id); i != conns.end())
      conn = i->second.lock();
  }
  if (conn)
    asio::post(conn->executor(), [conn, f] { f(*conn); });
}

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
  error_code ep_ec;
  auto ep = sock.remote_endpoint(ep_ec);
  admission::actions todo;
  auto id = next_id++;
  if (current && !ep_ec)
    todo = slots.accept(id, source_key(ep.address()));
  if (!todo.admitted) {
    ++rejected;
    error_code ignored;
    sock.close(ignored);
    do_accept();
    return;
  }
  error_code ignored;
  sock.set_option(tcp::no_delay{true}, ignored);
  ++connections;
  auto conn = std::make_shared<connection>(*this, std::move(sock),
                                           std::move(current), id);
  {
    std::lock_guard<std::mutex> guard{conns_mtx};
    conns.emplace(id, conn);
  }
  apply(todo);
  asio::dispatch(conn->executor(), [conn] { conn->start(); });
  do_accept();
}

tls_server::tls_server(tls_server_settings settings, ready_handler on_ready,
                       closed_handler on_closed)
  : impl_(std::make_unique<impl>(std::move(settings))) {
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
  // RFC 9113 §6.5.2: what may be advertised as SETTINGS_MAX_FRAME_SIZE.
  if (self.settings.h2.max_frame_size < h2::default_max_frame_size
      || self.settings.h2.max_frame_size > 16777215)
    return invalid("h2.max_frame_size must be within 16384..16777215");
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
  self.for_each_connection([](connection& c) { c.drop_if_not_established(); });
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
  self.joined = true;
}

tls_server_stats tls_server::stats() const {
  auto& self = *impl_;
  tls_server_stats result;
  auto current = self.slots.current();
  result.accepted = self.accepted;
  result.rejected = self.rejected;
  result.evicted = self.evicted;
  result.silent_timeouts = self.silent_timeouts;
  result.handshakes_ok = self.handshakes_ok;
  result.handshakes_failed = self.handshakes_failed;
  result.h2_violations = self.h2_violations;
  result.request_timeouts = self.request_timeouts;
  result.closed = self.closed;
  result.active = self.connections;
  result.silent = current.silent;
  result.waiting = current.queued;
  result.handshaking = current.handshaking;
  result.bytes_in = self.bytes_in;
  result.bytes_out = self.bytes_out;
  return result;
}

} // namespace istio_csr::grpc_bridge
