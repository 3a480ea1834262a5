#include "kube/client/http_transport.hpp"

#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <cerrno>
#include <deque>
#include <limits>
#include <unordered_set>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "kube/api/errc.hpp"
#include "metrics/rest_client.hpp"

namespace istio_csr::kube::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;
using error_code = boost::system::error_code;

stream_handle::~stream_handle() = default;

http_transport::~http_transport() = default;

namespace {

using tls_stream = beast::ssl_stream<beast::tcp_stream>;

constexpr uint64_t max_body_size = 512ull * 1024 * 1024;
constexpr uint32_t max_header_size = 256 * 1024;

/// One TCP+TLS connection with its read buffer.
struct connection {
  connection(const asio::any_io_executor& ex, ssl::context& ctx)
    : stream(ex, ctx) {
    // nop
  }

  tcp::socket& socket() {
    return beast::get_lowest_layer(stream).socket();
  }

  void close() {
    error_code ignored;
    beast::get_lowest_layer(stream).cancel();
    socket().shutdown(tcp::socket::shutdown_both, ignored);
    socket().close(ignored);
  }

  /// Whether an idle connection can be reused: still open, and the server
  /// has neither closed it nor sent anything (a TLS close_notify or alert).
  bool usable_when_idle() {
    if (!socket().is_open())
      return false;
    char byte;
    auto n
      = ::recv(socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n >= 0)
      return false;
    return errno == EAGAIN || errno == EWOULDBLOCK;
  }

  tls_stream stream;
  beast::flat_buffer buffer;
  clock_type::time_point idle_since;
};

using connection_ptr = std::unique_ptr<connection>;

bool is_ip_literal(const std::string& host) {
  error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

std::string openssl_errors() {
  std::string result;
  while (auto code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    if (!result.empty())
      result += "; ";
    result += buf;
  }
  return result;
}

/// Maps a Boost/Beast/OpenSSL failure to a kube error.
caf::error map_error(const error_code& ec, std::string_view what,
                     tls_stream* stream = nullptr) {
  std::string msg{what};
  msg += ": ";
  if (ec == beast::error::timeout)
    return make_error(errc::timeout, msg + "timed out");
  if (ec == asio::error::operation_aborted)
    return make_error(errc::cancelled, msg + "cancelled");
  if (ec.category() == asio::error::get_ssl_category()) {
    if (stream != nullptr) {
      auto verify = SSL_get_verify_result(stream->native_handle());
      if (verify != X509_V_OK)
        return make_error(errc::tls_error,
                          msg + "certificate verification failed: "
                            + X509_verify_cert_error_string(verify));
    }
    return make_error(errc::tls_error, msg + ec.message());
  }
  if (ec == ssl::error::stream_truncated)
    return make_error(errc::connection_failed,
                      msg + "connection closed by the server");
  if (ec.category()
        == http::make_error_code(http::error::end_of_stream).category()
      && ec != http::error::end_of_stream && ec != http::error::partial_message)
    return make_error(errc::decode_error, msg + ec.message());
  return make_error(errc::connection_failed, msg + ec.message());
}

void set_keepalive(tcp::socket& sock) {
  error_code ignored;
  sock.set_option(asio::socket_base::keep_alive(true), ignored);
  sock.set_option(tcp::no_delay(true), ignored);
  int idle = 30;
  int interval = 10;
  int count = 3;
  auto fd = sock.native_handle();
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof(interval));
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof(count));
}

std::optional<std::chrono::seconds>
parse_retry_after(const http::fields& fields) {
  auto i = fields.find(http::field::retry_after);
  if (i == fields.end())
    return std::nullopt;
  auto text = i->value();
  int64_t value = 0;
  if (text.empty() || text.size() > 9)
    return std::nullopt;
  for (char c : text) {
    if (c < '0' || c > '9')
      return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return std::chrono::seconds{value};
}

class transport_impl;

/// Base of every operation that holds a connection, so that shutdown can
/// abort it.
class op_base {
 public:
  virtual ~op_base() = default;
  virtual void abort() = 0;
};

class transport_impl : public http_transport,
                       public std::enable_shared_from_this<transport_impl> {
 public:
  transport_impl(asio::any_io_executor ex, transport_settings settings)
    : ex_(std::move(ex)), settings_(std::move(settings)),
      ctx_(ssl::context::tls_client) {
    if (settings_.server_name.empty())
      settings_.server_name = settings_.host;
    host_header_ = settings_.host.find(':') != std::string::npos
                     ? "[" + settings_.host + "]"
                     : settings_.host;
    if (settings_.port != "443")
      host_header_ += ":" + settings_.port;
  }

  ~transport_impl() override {
    OPENSSL_cleanse(settings_.client_key_pem.data(),
                    settings_.client_key_pem.size());
  }

  caf::error init() {
    SSL_CTX_set_min_proto_version(ctx_.native_handle(), TLS1_2_VERSION);
    error_code ec;
    if (settings_.insecure_skip_tls_verify) {
      ctx_.set_verify_mode(ssl::verify_none);
    } else {
      ctx_.set_verify_mode(ssl::verify_peer);
      if (settings_.ca_pem.empty()) {
        ctx_.set_default_verify_paths(ec);
        if (ec)
          return make_error(errc::config_error,
                            "cannot load the system trust store: "
                              + ec.message());
      } else {
        ctx_.add_certificate_authority(asio::buffer(settings_.ca_pem), ec);
        if (ec)
          return make_error(errc::config_error,
                            "certificate authority: not a usable PEM "
                            "certificate: "
                              + ec.message());
      }
    }
    if (!settings_.client_cert_pem.empty()) {
      ctx_.use_certificate_chain(asio::buffer(settings_.client_cert_pem), ec);
      if (ec)
        return make_error(errc::config_error,
                          "client certificate: not a usable PEM certificate: "
                            + ec.message());
      ctx_.use_private_key(asio::buffer(settings_.client_key_pem),
                           ssl::context::pem, ec);
      if (ec)
        return make_error(errc::config_error,
                          "client key: not a usable PEM private key: "
                            + ec.message());
      if (SSL_CTX_check_private_key(ctx_.native_handle()) != 1)
        return make_error(errc::config_error,
                          "client key does not match the client certificate: "
                            + openssl_errors());
    }
    // The key now lives in the SSL context only.
    OPENSSL_cleanse(settings_.client_key_pem.data(),
                    settings_.client_key_pem.size());
    settings_.client_key_pem.clear();
    return {};
  }

  void exchange(http_request req, clock_type::time_point deadline,
                std::function<void(exchange_result)> done) override;

  std::shared_ptr<stream_handle> stream(http_request req,
                                        std::chrono::milliseconds idle_timeout,
                                        stream_callbacks callbacks) override;

  void shutdown() override {
    if (stopped_)
      return;
    stopped_ = true;
    for (auto& conn : idle_)
      conn->close();
    idle_.clear();
    auto waiting = std::move(waiting_);
    waiting_.clear();
    // Copy: abort() may deregister synchronously.
    std::vector<op_base*> live{live_.begin(), live_.end()};
    for (auto op : live)
      op->abort();
    for (auto& start : waiting)
      start(false);
  }

  transport_stats stats() const override {
    return stats_;
  }

  // -- used by the operations ------------------------------------------------

  const asio::any_io_executor& executor() const {
    return ex_;
  }

  bool stopped() const {
    return stopped_;
  }

  void add_live(op_base* op) {
    live_.insert(op);
  }

  void remove_live(op_base* op) {
    live_.erase(op);
  }

  /// Makes a fresh, unconnected connection.
  connection_ptr new_connection() {
    ++stats_.connections_opened;
    return std::make_unique<connection>(ex_, ctx_);
  }

  const transport_settings& settings() const {
    return settings_;
  }

  /// Prepares SNI and hostname verification on a fresh connection.
  caf::error prepare_tls(connection& conn) {
    auto ssl_handle = conn.stream.native_handle();
    auto& name = settings_.server_name;
    auto ip = is_ip_literal(name);
    if (!ip && SSL_set_tlsext_host_name(ssl_handle, name.c_str()) != 1)
      return make_error(errc::tls_error, "cannot set SNI " + name);
    if (!settings_.insecure_skip_tls_verify) {
      auto param = SSL_get0_param(ssl_handle);
      X509_VERIFY_PARAM_set_hostflags(param,
                                      X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      auto ok
        = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str())
             : X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
      if (ok != 1)
        return make_error(errc::tls_error,
                          "cannot set the verification name " + name);
    }
    return {};
  }

  /// Builds the Beast request.
  http::request<http::string_body> make_request(const http_request& r) const {
    http::request<http::string_body> req;
    req.method_string(r.method);
    req.target(r.target);
    req.version(11);
    req.set(http::field::host, host_header_);
    for (auto& [key, value] : r.headers)
      req.insert(key, value); // repeatable (Impersonate-Group)
    if (!r.body.empty() || r.method == "POST" || r.method == "PUT"
        || r.method == "PATCH") {
      req.set(http::field::content_type, r.content_type);
      req.body() = r.body;
    }
    req.keep_alive(true);
    req.prepare_payload();
    return req;
  }

  /// A connection for an exchange: an idle one, a new one, or (when at the
  /// limit) later. `start(conn)` receives a connected connection, or a
  /// fresh unconnected one (`connected == false`), or nullptr on shutdown.
  void acquire(std::function<void(connection_ptr, bool connected)> start) {
    if (stopped_) {
      start(nullptr, false);
      return;
    }
    auto now = clock_type::now();
    while (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      if (now - conn->idle_since < settings_.idle_timeout
          && conn->usable_when_idle()) {
        ++active_;
        ++stats_.reused;
        start(std::move(conn), true);
        return;
      }
      conn->close();
    }
    if (active_ < settings_.max_connections) {
      ++active_;
      start(new_connection(), false);
      return;
    }
    waiting_.push_back([this, start = std::move(start)](bool go) mutable {
      if (go)
        acquire(std::move(start));
      else
        start(nullptr, false);
    });
  }

  /// Gives a connection back after an exchange: pooled when `reusable`.
  void release(connection_ptr conn, bool reusable) {
    --active_;
    if (conn != nullptr) {
      if (reusable && !stopped_ && idle_.size() < settings_.max_idle) {
        conn->idle_since = clock_type::now();
        conn->stream.next_layer().expires_never();
        idle_.push_back(std::move(conn));
      } else {
        conn->close();
      }
    }
    if (!waiting_.empty() && !stopped_) {
      auto next = std::move(waiting_.front());
      waiting_.pop_front();
      next(true);
    }
  }

  transport_stats stats_;

 private:
  asio::any_io_executor ex_;
  transport_settings settings_;
  ssl::context ctx_;
  std::string host_header_;
  std::deque<connection_ptr> idle_;
  size_t active_ = 0;
  std::deque<std::function<void(bool)>> waiting_;
  std::unordered_set<op_base*> live_;
  bool stopped_ = false;
};

/// Connects `conn` (resolve, TCP, TLS handshake) and calls `done(err)`.
/// The connection must stay alive until then (owned by the caller's op).
class connector : public std::enable_shared_from_this<connector> {
 public:
  connector(std::shared_ptr<transport_impl> transport, connection& conn,
            clock_type::time_point deadline,
            std::function<void(caf::error)> done)
    : transport_(std::move(transport)), conn_(conn),
      resolver_(transport_->executor()), deadline_(deadline),
      done_(std::move(done)) {
    // nop
  }

  void start() {
    auto& s = transport_->settings();
    what_ = "connect to " + s.host + ":" + s.port;
    resolver_.async_resolve(
      s.host, s.port,
      [self = shared_from_this()](const error_code& ec,
                                  tcp::resolver::results_type results) {
        self->on_resolve(ec, std::move(results));
      });
  }

  void cancel() {
    resolver_.cancel();
  }

 private:
  clock_type::time_point connect_deadline() const {
    auto limit = clock_type::now() + transport_->settings().connect_timeout;
    return std::min(limit, deadline_);
  }

  void on_resolve(const error_code& ec, tcp::resolver::results_type results) {
    if (ec)
      return done_(map_error(ec, what_));
    auto& tcp_layer = conn_.stream.next_layer();
    tcp_layer.expires_at(connect_deadline());
    tcp_layer.async_connect(
      results,
      [self = shared_from_this()](const error_code& ec, const tcp::endpoint&) {
        self->on_connect(ec);
      });
  }

  void on_connect(const error_code& ec) {
    if (ec)
      return done_(map_error(ec, what_));
    set_keepalive(conn_.socket());
    if (auto err = transport_->prepare_tls(conn_))
      return done_(std::move(err));
    conn_.stream.next_layer().expires_at(connect_deadline());
    conn_.stream.async_handshake(
      ssl::stream_base::client,
      [self = shared_from_this()](const error_code& ec) {
        self->on_handshake(ec);
      });
  }

  void on_handshake(const error_code& ec) {
    conn_.stream.next_layer().expires_never();
    if (ec) {
      auto& s = transport_->settings();
      return done_(map_error(ec, "TLS handshake with " + s.host + ":" + s.port,
                             &conn_.stream));
    }
    done_({});
  }

  std::shared_ptr<transport_impl> transport_;
  connection& conn_;
  tcp::resolver resolver_;
  clock_type::time_point deadline_;
  std::function<void(caf::error)> done_;
  std::string what_;
};

/// One request/response exchange.
/// client-go's per-request metrics (`rest_client_*`): one per HTTP
/// attempt that reached the server or failed on the way; requests the
/// client cancelled itself (shutdown) are not API calls and not counted.
void count_request(const transport_settings& s,
                   boost::beast::string_view method, int status,
                   clock_type::time_point started) {
  metrics::rest_client_request(
    std::string_view{method.data(), method.size()}, status,
    s.host + ":" + s.port,
    std::chrono::duration<double>(clock_type::now() - started).count());
}

class exchange_op : public op_base,
                    public std::enable_shared_from_this<exchange_op> {
 public:
  exchange_op(std::shared_ptr<transport_impl> transport, http_request req,
              clock_type::time_point deadline,
              std::function<void(exchange_result)> done)
    : transport_(std::move(transport)), req_(transport_->make_request(req)),
      deadline_(deadline), done_(std::move(done)) {
    transport_->add_live(this);
    parser_.emplace();
    parser_->body_limit(max_body_size);
    parser_->header_limit(max_header_size);
  }

  ~exchange_op() override {
    transport_->remove_live(this);
  }

  void start() {
    transport_->acquire(
      [self = shared_from_this()](connection_ptr conn, bool connected) {
        self->on_connection(std::move(conn), connected);
      });
  }

  void abort() override {
    aborted_ = true;
    if (connector_)
      connector_->cancel();
    if (conn_)
      conn_->close();
  }

 private:
  void on_connection(connection_ptr conn, bool connected) {
    if (conn == nullptr)
      return finish(make_error(errc::cancelled, "client shut down"));
    conn_ = std::move(conn);
    has_slot_ = true;
    if (aborted_ || transport_->stopped())
      return finish(make_error(errc::cancelled, "client shut down"));
    reused_ = connected;
    if (connected)
      return send();
    connector_ = std::make_shared<connector>(
      transport_, *conn_, deadline_,
      [self = shared_from_this()](caf::error err) {
        self->connector_.reset();
        if (err)
          return self->finish(std::move(err));
        self->send();
      });
    connector_->start();
  }

  void send() {
    if (aborted_)
      return finish(make_error(errc::cancelled, "client shut down"));
    ++transport_->stats_.exchanges;
    sent_ = true;
    auto& tcp_layer = conn_->stream.next_layer();
    if (deadline_ == clock_type::time_point::max())
      tcp_layer.expires_never();
    else
      tcp_layer.expires_at(deadline_);
    http::async_write(conn_->stream, req_,
                      [self = shared_from_this()](
                        const error_code& ec, size_t) { self->on_write(ec); });
  }

  void on_write(const error_code& ec) {
    if (ec)
      return finish(map_error(ec, describe()));
    http::async_read(conn_->stream, conn_->buffer, *parser_,
                     [self = shared_from_this()](const error_code& ec, size_t) {
                       self->on_read(ec);
                     });
  }

  void on_read(const error_code& ec) {
    if (ec)
      return finish(map_error(ec, describe()));
    auto& res = parser_->get();
    exchange_result result;
    result.request_sent = true;
    result.response.status = static_cast<int>(res.result_int());
    result.response.retry_after = parse_retry_after(res.base());
    result.response.body = std::move(res.body());
    reusable_ = res.keep_alive() && parser_->is_done();
    deliver(std::move(result));
  }

  std::string describe() const {
    auto& s = transport_->settings();
    std::string result{req_.method_string()};
    result += " https://" + s.host + ":" + s.port;
    auto target = req_.target();
    result.append(target.data(), target.size());
    return result;
  }

  void finish(caf::error err) {
    if (transport_->stopped() || aborted_)
      err = make_error(errc::cancelled, "client shut down");
    exchange_result result;
    result.err = std::move(err);
    result.request_sent = sent_;
    reusable_ = false;
    deliver(std::move(result));
  }

  void deliver(exchange_result result) {
    if (!done_)
      return;
    if (!result.err)
      count_request(transport_->settings(), req_.method_string(),
                    result.response.status, started_);
    else if (!kube::is(result.err, errc::cancelled))
      count_request(transport_->settings(), req_.method_string(), 0, started_);
    if (has_slot_)
      transport_->release(std::move(conn_), reusable_);
    has_slot_ = false;
    auto done = std::move(done_);
    done_ = nullptr;
    done(std::move(result));
  }

  std::shared_ptr<transport_impl> transport_;
  http::request<http::string_body> req_;
  clock_type::time_point deadline_;
  std::function<void(exchange_result)> done_;
  clock_type::time_point started_ = clock_type::now();
  std::optional<http::response_parser<http::string_body>> parser_;
  connection_ptr conn_;
  std::shared_ptr<connector> connector_;
  bool sent_ = false;
  bool has_slot_ = false;
  bool reused_ = false;
  bool reusable_ = false;
  bool aborted_ = false;
};

void transport_impl::exchange(http_request req, clock_type::time_point deadline,
                              std::function<void(exchange_result)> done) {
  auto op = std::make_shared<exchange_op>(shared_from_this(), std::move(req),
                                          deadline, std::move(done));
  op->start();
}

/// A streamed response on a dedicated connection.
class stream_op : public op_base,
                  public stream_handle,
                  public std::enable_shared_from_this<stream_op> {
 public:
  stream_op(std::shared_ptr<transport_impl> transport, http_request req,
            std::chrono::milliseconds idle_timeout, stream_callbacks callbacks)
    : transport_(std::move(transport)), req_(transport_->make_request(req)),
      idle_timeout_(idle_timeout), callbacks_(std::move(callbacks)),
      conn_(transport_->new_connection()) {
    transport_->add_live(this);
    // Not boost::none: Beast 1.74 compares the content length against the
    // empty optional and reports body_limit.
    parser_.body_limit(std::numeric_limits<std::uint64_t>::max());
    parser_.header_limit(max_header_size);
  }

  ~stream_op() override {
    transport_->remove_live(this);
  }

  void start() {
    if (transport_->stopped())
      return end(make_error(errc::cancelled, "client shut down"));
    connector_ = std::make_shared<connector>(
      transport_, *conn_, clock_type::time_point::max(),
      [self = shared_from_this()](caf::error err) {
        self->connector_.reset();
        if (err)
          return self->end(std::move(err));
        self->send();
      });
    connector_->start();
  }

  void cancel() override {
    if (cancelled_)
      return;
    cancelled_ = true;
    if (connector_)
      connector_->cancel();
    conn_->close();
  }

  void abort() override {
    aborted_ = true;
    if (connector_)
      connector_->cancel();
    conn_->close();
  }

 private:
  void arm_timer() {
    auto& tcp_layer = conn_->stream.next_layer();
    if (idle_timeout_.count() > 0)
      tcp_layer.expires_after(idle_timeout_);
    else
      tcp_layer.expires_never();
  }

  void send() {
    if (cancelled_ || aborted_)
      return end(make_error(errc::cancelled, "watch cancelled"));
    sent_ = true;
    ++transport_->stats_.exchanges;
    conn_->stream.next_layer().expires_after(std::chrono::seconds{60});
    http::async_write(
      conn_->stream, req_,
      [self = shared_from_this()](const error_code& ec, size_t) {
        if (ec)
          return self->end(map_error(ec, "watch request"));
        self->read_header();
      });
  }

  void read_header() {
    arm_timer();
    http::async_read_header(
      conn_->stream, conn_->buffer, parser_,
      [self = shared_from_this()](const error_code& ec, size_t) {
        self->on_header(ec);
      });
  }

  void on_header(const error_code& ec) {
    if (ec)
      return end(map_error(ec, "watch response"));
    if (cancelled_)
      return;
    auto& res = parser_.get();
    counted_ = true;
    count_request(transport_->settings(), req_.method_string(),
                  static_cast<int>(res.result_int()), started_);
    if (callbacks_.on_headers)
      callbacks_.on_headers(static_cast<int>(res.result_int()),
                            parse_retry_after(res.base()));
    if (cancelled_)
      return;
    if (parser_.is_done())
      return end({});
    read_body();
  }

  void read_body() {
    arm_timer();
    auto& body = parser_.get().body();
    body.data = buf_;
    body.size = sizeof(buf_);
    http::async_read_some(conn_->stream, conn_->buffer, parser_,
                          [self = shared_from_this()](error_code ec, size_t) {
                            self->on_body(ec);
                          });
  }

  void on_body(error_code ec) {
    if (ec == http::error::need_buffer)
      ec = {};
    if (cancelled_)
      return;
    auto& body = parser_.get().body();
    auto n = sizeof(buf_) - body.size;
    if (n > 0 && callbacks_.on_data) {
      callbacks_.on_data(buf_, n);
      if (cancelled_)
        return;
    }
    if (ec)
      return end(map_error(ec, "watch stream"));
    if (parser_.is_done())
      return end({});
    read_body();
  }

  void end(caf::error err) {
    if (cancelled_ || ended_)
      return;
    ended_ = true;
    if (transport_->stopped() || aborted_)
      err = make_error(errc::cancelled, "client shut down");
    else if (err && !counted_)
      count_request(transport_->settings(), req_.method_string(), 0, started_);
    conn_->close();
    if (callbacks_.on_end)
      callbacks_.on_end(std::move(err), sent_);
  }

  std::shared_ptr<transport_impl> transport_;
  http::request<http::string_body> req_;
  std::chrono::milliseconds idle_timeout_;
  stream_callbacks callbacks_;
  connection_ptr conn_;
  std::shared_ptr<connector> connector_;
  http::response_parser<http::buffer_body> parser_;
  char buf_[16384];
  clock_type::time_point started_ = clock_type::now();
  bool counted_ = false;
  bool sent_ = false;
  bool cancelled_ = false;
  bool aborted_ = false;
  bool ended_ = false;
};

std::shared_ptr<stream_handle>
transport_impl::stream(http_request req, std::chrono::milliseconds idle_timeout,
                       stream_callbacks callbacks) {
  auto op = std::make_shared<stream_op>(shared_from_this(), std::move(req),
                                        idle_timeout, std::move(callbacks));
  op->start();
  return op;
}

} // namespace

caf::expected<std::shared_ptr<http_transport>>
http_transport::make(asio::any_io_executor executor,
                     transport_settings settings) {
  auto result = std::make_shared<transport_impl>(std::move(executor),
                                                 std::move(settings));
  if (auto err = result->init())
    return err;
  return std::shared_ptr<http_transport>{std::move(result)};
}

} // namespace istio_csr::kube::detail
