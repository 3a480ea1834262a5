#include "devcluster/http_server.hpp"

#include <deque>
#include <list>
#include <optional>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "devcluster/util.hpp"

namespace istio_csr::devcluster {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

/// Request bodies above this are rejected (kube-apiserver's limit).
constexpr size_t max_body = 3 * 1024 * 1024;

/// A watch whose client does not read gets closed past this backlog.
constexpr size_t max_stream_backlog = 64 * 1024 * 1024;

struct shared_state {
  explicit shared_state(http_server::handler h)
    : handler(std::move(h)), ctx(ssl::context::tls_server) {}
  http_server::handler handler;
  ssl::context ctx;
};

class session : public std::enable_shared_from_this<session>,
                public stream_sink {
 public:
  session(tcp::socket socket, std::shared_ptr<shared_state> state)
    : stream_(std::move(socket), state->ctx), state_(std::move(state)) {}

  void run() {
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(30));
    stream_.async_handshake(ssl::stream_base::server,
                            [self = shared_from_this()](beast::error_code ec) {
                              if (ec)
                                return self->close();
                              self->do_read();
                            });
  }

  void close() {
    if (closed_)
      return;
    closed_ = true;
    beast::error_code ec;
    auto& sock = beast::get_lowest_layer(stream_).socket();
    sock.shutdown(tcp::socket::shutdown_both, ec);
    sock.close(ec);
    if (source_) {
      // Never destroy the source inside one of its own calls.
      net::post(stream_.get_executor(),
                [self = shared_from_this()] { self->source_.reset(); });
    }
  }

  // stream_sink
  void send(std::shared_ptr<const std::string> chunk) override {
    if (closed_ || finishing_ || chunk->empty())
      return;
    pending_bytes_ += chunk->size();
    pending_.push_back(std::move(chunk));
    if (pending_bytes_ > max_stream_backlog)
      return close();
    flush();
  }

  void finish() override {
    finishing_ = true;
    flush();
  }

 private:
  void do_read() {
    parser_.emplace();
    parser_->body_limit(max_body);
    parser_->header_limit(64 * 1024);
    beast::get_lowest_layer(stream_).expires_never();
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       self->on_read(ec);
                     });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      keep_alive_ = false;
      http_response r;
      r.status = 413;
      r.body = R"({"kind":"Status","apiVersion":"v1","metadata":{},)"
               R"("status":"Failure","message":"Request entity too large: )"
               R"(limit is 3145728","reason":"RequestEntityTooLarge",)"
               R"("code":413})";
      return write_response(std::move(r));
    }
    if (ec)
      return close();
    auto& msg = parser_->get();
    http_request req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    auto q = req.target.find('?');
    req.path = url_decode(std::string_view(req.target).substr(0, q));
    if (q != std::string::npos)
      req.query = parse_query(std::string_view(req.target).substr(q + 1));
    req.authorization = std::string(msg[http::field::authorization]);
    req.content_type = std::string(msg[http::field::content_type]);
    req.accept = std::string(msg[http::field::accept]);
    req.user_agent = std::string(msg[http::field::user_agent]);
    req.body = std::move(msg.body());
    keep_alive_ = msg.keep_alive();
    version_ = msg.version();
    head_ = msg.method() == http::verb::head;
    state_->handler(std::move(req),
                    [self = shared_from_this()](api_result result) {
                      self->on_result(std::move(result));
                    });
  }

  void on_result(api_result result) {
    if (closed_)
      return;
    if (result.stream)
      return start_stream(std::move(result.stream));
    write_response(std::move(result.response));
  }

  void write_response(http_response r) {
    auto res = std::make_shared<http::response<http::string_body>>(
      static_cast<http::status>(r.status), version_);
    res->set(http::field::content_type, r.content_type);
    res->set(http::field::cache_control, "no-cache, private");
    for (auto& [k, v] : r.headers)
      res->set(k, v);
    res->keep_alive(keep_alive_);
    res->body() = std::move(r.body);
    res->prepare_payload();
    if (head_)
      res->body().clear();
    http::async_write(
      stream_, *res,
      [self = shared_from_this(), res](beast::error_code ec, size_t) {
        if (ec || !res->keep_alive())
          return self->close();
        self->do_read();
      });
  }

  void start_stream(std::unique_ptr<stream_source> source) {
    source_ = std::move(source);
    auto h = source_->header();
    auto res = std::make_shared<http::response<http::empty_body>>(
      static_cast<http::status>(h.status), version_);
    res->set(http::field::content_type, h.content_type);
    for (auto& [k, v] : h.headers)
      res->set(k, v);
    // The connection ends with the stream (clients open a new one).
    res->keep_alive(false);
    res->chunked(true);
    auto sr
      = std::make_shared<http::response_serializer<http::empty_body>>(*res);
    http::async_write_header(
      stream_, *sr,
      [self = shared_from_this(), res, sr](beast::error_code ec, size_t) {
        if (ec)
          return self->close();
        self->header_sent_ = true;
        self->detect_close();
        if (self->source_)
          self->source_->start(*self);
        self->flush();
      });
  }

  /// Reads while streaming: the client sends nothing, so the read ends only
  /// when the client goes away.
  void detect_close() {
    stream_.async_read_some(
      net::buffer(probe_),
      [self = shared_from_this()](beast::error_code ec, size_t) {
        if (ec)
          return self->close();
        self->detect_close();
      });
  }

  void flush() {
    if (!header_sent_ || writing_ || closed_)
      return;
    if (!pending_.empty()) {
      inflight_.assign(pending_.begin(), pending_.end());
      pending_.clear();
      pending_bytes_ = 0;
      buffers_.clear();
      for (auto& c : inflight_)
        buffers_.emplace_back(c->data(), c->size());
      writing_ = true;
      net::async_write(
        stream_, http::make_chunk(buffers_),
        [self = shared_from_this()](beast::error_code ec, size_t) {
          self->writing_ = false;
          self->inflight_.clear();
          if (ec)
            return self->close();
          self->flush();
        });
      return;
    }
    if (finishing_ && !last_chunk_sent_) {
      last_chunk_sent_ = true;
      writing_ = true;
      net::async_write(stream_, http::make_chunk_last(),
                       [self = shared_from_this()](beast::error_code, size_t) {
                         self->writing_ = false;
                         self->close();
                       });
    }
  }

  beast::ssl_stream<beast::tcp_stream> stream_;
  std::shared_ptr<shared_state> state_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool head_ = false;
  bool closed_ = false;
  // Streaming.
  std::unique_ptr<stream_source> source_;
  bool header_sent_ = false;
  bool writing_ = false;
  bool finishing_ = false;
  bool last_chunk_sent_ = false;
  std::deque<std::shared_ptr<const std::string>> pending_;
  size_t pending_bytes_ = 0;
  std::vector<std::shared_ptr<const std::string>> inflight_;
  std::vector<net::const_buffer> buffers_;
  char probe_[512];
};

} // namespace

struct http_server::impl : std::enable_shared_from_this<http_server::impl> {
  impl(net::io_context& io, std::shared_ptr<shared_state> st)
    : ioc(io), state(std::move(st)), acceptor(io), retry(io) {}

  void accept() {
    acceptor.async_accept(ioc, [self = shared_from_this()](beast::error_code ec,
                                                           tcp::socket socket) {
      if (ec) {
        if (ec == net::error::operation_aborted || !self->acceptor.is_open())
          return;
        // Out of file descriptors and the like: try again a bit later
        // rather than spinning.
        self->retry.expires_after(std::chrono::milliseconds(50));
        self->retry.async_wait([self](beast::error_code e) {
          if (!e && self->acceptor.is_open())
            self->accept();
        });
        return;
      }
      socket.set_option(tcp::no_delay(true));
      auto s = std::make_shared<session>(std::move(socket), self->state);
      std::erase_if(self->sessions, [](auto& w) { return w.expired(); });
      self->sessions.push_back(s);
      s->run();
      self->accept();
    });
  }

  net::io_context& ioc;
  std::shared_ptr<shared_state> state;
  tcp::acceptor acceptor;
  net::steady_timer retry;
  std::list<std::weak_ptr<session>> sessions;
};

http_server::http_server(net::io_context& ioc, const std::string& cert_pem,
                         const std::string& key_pem, handler h) {
  auto state = std::make_shared<shared_state>(std::move(h));
  state->ctx.set_options(ssl::context::default_workarounds
                         | ssl::context::no_sslv2 | ssl::context::no_sslv3
                         | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  state->ctx.use_certificate_chain(net::buffer(cert_pem));
  state->ctx.use_private_key(net::buffer(key_pem), ssl::context::pem);
  impl_ = std::make_shared<impl>(ioc, std::move(state));
}

http_server::~http_server() {
  stop();
}

uint16_t http_server::listen(const std::string& host, uint16_t port) {
  tcp::endpoint ep{net::ip::make_address(host), port};
  auto& a = impl_->acceptor;
  a.open(ep.protocol());
  a.set_option(net::socket_base::reuse_address(true));
  a.bind(ep);
  a.listen(net::socket_base::max_listen_connections);
  impl_->accept();
  return a.local_endpoint().port();
}

void http_server::stop() {
  beast::error_code ec;
  impl_->acceptor.close(ec);
  impl_->retry.cancel();
  for (auto& w : impl_->sessions)
    if (auto s = w.lock())
      s->close();
  impl_->sessions.clear();
}

} // namespace istio_csr::devcluster
