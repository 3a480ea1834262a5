#include "health/server.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <functional>
#include <list>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include "caf/sec.hpp"

namespace istio_csr::health {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = boost::asio::ip::tcp;
using boost::system::error_code;

namespace {

struct reply {
  http::status status = http::status::ok;
  std::string body;
};

std::string url_decode(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    auto c = in[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%' && i + 2 < in.size() && std::isxdigit(in[i + 1])
               && std::isxdigit(in[i + 2])) {
      out += static_cast<char>(
        std::stoi(std::string{in.substr(i + 1, 2)}, nullptr, 16));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

// Query parameters, repeated keys kept in order.
std::multimap<std::string, std::string> parse_query(std::string_view query) {
  std::multimap<std::string, std::string> result;
  while (!query.empty()) {
    auto amp = query.find('&');
    auto part = query.substr(0, amp);
    if (!part.empty()) {
      auto eq = part.find('=');
      result.emplace(url_decode(part.substr(0, eq)),
                     eq == std::string_view::npos
                       ? std::string{}
                       : url_decode(part.substr(eq + 1)));
    }
    if (amp == std::string_view::npos)
      break;
    query.remove_prefix(amp + 1);
  }
  return result;
}

// Go's `path.Clean` for the parts that matter here: collapse "//", drop
// "." segments and trailing slashes.
std::string clean_path(std::string_view p) {
  std::vector<std::string_view> parts;
  while (!p.empty()) {
    auto slash = p.find('/');
    auto seg = p.substr(0, slash);
    if (seg == "..") {
      if (!parts.empty())
        parts.pop_back();
    } else if (!seg.empty() && seg != ".") {
      parts.push_back(seg);
    }
    if (slash == std::string_view::npos)
      break;
    p.remove_prefix(slash + 1);
  }
  std::string out;
  for (auto seg : parts) {
    out += '/';
    out += seg;
  }
  return out.empty() ? "/" : out;
}

class session;

/// Hands work to the I/O thread from any thread, until the server stops.
class poster {
 public:
  explicit poster(asio::io_context& io) : io_(&io) {}

  void post(std::function<void()> fn) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (io_ != nullptr)
      asio::post(*io_, std::move(fn));
  }

  /// After this, `post` drops its work (the I/O context may be gone).
  void close() {
    std::lock_guard<std::mutex> guard{mtx_};
    io_ = nullptr;
  }

 private:
  std::mutex mtx_;
  asio::io_context* io_;
};

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size()
         && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
              return std::tolower(static_cast<unsigned char>(x))
                     == std::tolower(static_cast<unsigned char>(y));
            });
}

} // namespace

std::optional<std::string_view> request::header(std::string_view name) const {
  for (const auto& [key, value] : headers)
    if (iequals(key, name))
      return value;
  return std::nullopt;
}

struct server::impl {
  settings cfg;
  std::atomic<std::uint16_t> port{0};
  std::atomic<bool> started{false};
  std::atomic<bool> stopped{false};
  std::mutex stop_mtx;

  mutable std::mutex checks_mtx;
  std::map<std::string, check> checks;

  // Open connections, oldest first; only touched on the I/O thread.
  std::list<std::weak_ptr<session>> sessions;

  // Declared last: destroying the context destroys pending sessions, which
  // still touch the members above.
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::thread thread;
  /// Shared with the responders of routes, which may outlive the server.
  std::shared_ptr<poster> answers = std::make_shared<poster>(io);

  std::map<std::string, check> snapshot() const {
    std::lock_guard<std::mutex> guard{checks_mtx};
    return checks;
  }

  static std::optional<std::string> run_check(const check& fn) {
    try {
      return fn();
    } catch (const std::exception& e) {
      return std::string{"check threw: "} + e.what();
    }
  }

  reply handle(std::string_view target) const {
    auto q = target.find('?');
    auto raw_path = target.substr(0, q);
    auto query
      = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
    auto path = clean_path(raw_path);
    auto base = clean_path(cfg.path);
    std::string sub;
    if (path == base)
      sub = "/";
    else if (path.size() > base.size()
             && path.compare(0, base.size(), base) == 0
             && (base == "/" || path[base.size()] == '/'))
      sub = base == "/" ? path : path.substr(base.size());
    else
      return {http::status::not_found, "404 page not found\n"};
    auto all = snapshot();
    if (sub == "/")
      return aggregated(all, parse_query(query));
    auto name = sub.substr(1);
    if (all.empty() && name == "ping")
      return {http::status::ok, "ok"};
    auto i = all.find(name);
    if (i == all.end())
      return {http::status::not_found, "404 page not found\n"};
    if (auto err = run_check(i->second))
      return {http::status::internal_server_error,
              "internal server error: " + *err + "\n"};
    return {http::status::ok, "ok"};
  }

  static reply aggregated(const std::map<std::string, check>& all,
                          const std::multimap<std::string, std::string>& q) {
    std::set<std::string> excluded;
    for (auto [i, end] = q.equal_range("exclude"); i != end; ++i)
      excluded.insert(i->second);
    bool verbose = q.count("verbose") > 0;
    bool failed = false;
    std::string lines;
    if (all.empty())
      lines += "[+]ping ok\n";
    for (const auto& [name, fn] : all) {
      if (excluded.erase(name) > 0) {
        lines += "[+]" + name + " excluded: ok\n";
      } else if (run_check(fn)) {
        failed = true;
        // Public endpoint: the reason only shows on <path>/<name>.
        lines += "[-]" + name + " failed: reason withheld\n";
      } else {
        lines += "[+]" + name + " ok\n";
      }
    }
    if (!failed && !verbose)
      return {http::status::ok, "ok"};
    if (!excluded.empty()) {
      std::string names;
      for (const auto& name : excluded) {
        if (!names.empty())
          names += ',';
        names += '"' + name + '"';
      }
      lines += "warn: some health checks cannot be excluded: no matches for "
               + names + "\n";
    }
    lines += failed ? "healthz check failed\n" : "healthz check passed\n";
    return {failed ? http::status::internal_server_error : http::status::ok,
            std::move(lines)};
  }

  void do_accept();
};

namespace {

/// One connection: waits for the first bytes of a request (evictable while
/// it does), reads the request, answers, and again while kept alive.
class session : public std::enable_shared_from_this<session> {
 public:
  session(server::impl& srv, tcp::socket sock)
    : srv_(srv), stream_(std::move(sock)), idle_timer_(stream_.get_executor()),
      answer_timer_(stream_.get_executor()) {}

  ~session() {
    forget();
  }

  /// Registers with the server (newest last) and waits for a request.
  void start() {
    srv_.sessions.push_back(weak_from_this());
    pos_ = std::prev(srv_.sessions.end());
    listed_ = true;
    wait_for_request();
  }

  /// Whether no byte of a request has arrived yet.
  bool idle() const noexcept {
    return idle_;
  }

  void close() {
    forget();
    error_code ignored;
    idle_timer_.cancel();
    answer_timer_.cancel();
    awaiting_ = false;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

 private:
  void forget() {
    if (listed_) {
      srv_.sessions.erase(pos_);
      listed_ = false;
    }
  }

  void wait_for_request() {
    request_ = {};
    if (buffer_.size() > 0) {
      // The next request arrived with the previous one.
      read();
      return;
    }
    idle_ = true;
    idle_timer_.expires_after(srv_.cfg.first_bytes_timeout);
    idle_timer_.async_wait([self = shared_from_this()](const error_code& ec) {
      if (!ec && self->idle_)
        self->close();
    });
    stream_.socket().async_wait(
      tcp::socket::wait_read,
      [self = shared_from_this()](const error_code& ec) {
        if (!self->idle_)
          return;
        self->idle_ = false;
        self->idle_timer_.cancel();
        if (ec)
          self->close();
        else
          self->read();
      });
  }

  void read() {
    idle_ = false;
    parser_.emplace();
    parser_->header_limit(8 * 1024);
    parser_->body_limit(4 * 1024);
    stream_.expires_after(srv_.cfg.request_timeout);
    http::async_read(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](const error_code& ec, std::size_t) {
        self->on_read(ec);
      });
  }

  void on_read(const error_code& ec) {
    if (ec) {
      close();
      return;
    }
    request_ = parser_->release();
    std::string_view target{request_.target().data(), request_.target().size()};
    if (srv_.cfg.handler) {
      ask_route(target);
      return;
    }
    auto r = srv_.handle(target);
    write({static_cast<unsigned>(r.status),
           "text/plain; charset=utf-8",
           std::move(r.body),
           {}});
  }

  /// Hands the request to the route; its answer comes back through
  /// `srv_.answers` (or the deadline answers 503).
  void ask_route(std::string_view target) {
    awaiting_ = true;
    auto token = ++answer_token_;
    answer_timer_.expires_after(srv_.cfg.request_timeout);
    // Keeps the session alive while the route works.
    answer_timer_.async_wait([self = shared_from_this(),
                              token](const error_code& ec) {
      if (!ec)
        self->answer(
          token, {503, "text/plain; charset=utf-8", "no answer in time\n", {}});
    });
    request req;
    req.method
      = {request_.method_string().data(), request_.method_string().size()};
    req.target = target;
    for (const auto& field : request_)
      req.headers.emplace_back(
        std::string_view{field.name_string().data(),
                         field.name_string().size()},
        std::string_view{field.value().data(), field.value().size()});
    srv_.cfg.handler(req, [weak = weak_from_this(), answers = srv_.answers,
                           token](response r) {
      answers->post([weak, token, r = std::move(r)]() mutable {
        if (auto self = weak.lock())
          self->answer(token, std::move(r));
      });
    });
  }

  /// The route's answer (or the deadline's) to request `token`.
  void answer(std::uint64_t token, response r) {
    if (!awaiting_ || token != answer_token_)
      return;
    awaiting_ = false;
    answer_timer_.cancel();
    write(std::move(r));
  }

  void write(response r) {
    response_ = {};
    response_.version(request_.version());
    response_.result(static_cast<http::status>(r.status));
    response_.set(http::field::content_type, r.content_type);
    response_.set("X-Content-Type-Options", "nosniff");
    for (auto& [name, value] : r.headers)
      response_.set(name, value);
    response_.keep_alive(request_.keep_alive());
    if (request_.method() != http::verb::head)
      response_.body() = std::move(r.body);
    response_.prepare_payload();
    if (request_.method() == http::verb::head)
      response_.content_length(r.body.size());
    http::async_write(
      stream_, response_,
      [self = shared_from_this()](const error_code& ec, std::size_t) {
        if (ec || !self->response_.keep_alive()) {
          self->close();
          return;
        }
        self->stream_.expires_never();
        self->wait_for_request();
      });
  }

  server::impl& srv_;
  beast::tcp_stream stream_;
  asio::steady_timer idle_timer_;
  /// The deadline of the route's answer.
  asio::steady_timer answer_timer_;
  /// Whether the route's answer to request `answer_token_` is awaited.
  bool awaiting_ = false;
  std::uint64_t answer_token_ = 0;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
  std::list<std::weak_ptr<session>>::iterator pos_;
  bool listed_ = false;
  bool idle_ = false;
};

// The connection a newcomer replaces: the oldest idle one, else the oldest.
std::shared_ptr<session>
pick_victim(const std::list<std::weak_ptr<session>>& sessions) {
  std::shared_ptr<session> oldest;
  for (const auto& weak : sessions) {
    auto s = weak.lock();
    if (!s)
      continue;
    if (s->idle())
      return s;
    if (!oldest)
      oldest = std::move(s);
  }
  return oldest;
}

} // namespace

void server::impl::do_accept() {
  // One I/O thread: every handler below runs on it, one at a time.
  acceptor.async_accept([this](const error_code& ec, tcp::socket sock) {
    if (ec == asio::error::operation_aborted || !acceptor.is_open())
      return;
    if (!ec) {
      if (sessions.size() >= std::max<std::size_t>(cfg.max_connections, 1))
        if (auto victim = pick_victim(sessions))
          victim->close();
      std::make_shared<session>(*this, std::move(sock))->start();
    }
    do_accept();
  });
}

server::server(settings s) : impl_(std::make_unique<impl>()) {
  impl_->cfg = std::move(s);
}

server::~server() {
  stop();
}

void server::add_check(std::string name, check fn) {
  std::lock_guard<std::mutex> guard{impl_->checks_mtx};
  impl_->checks[std::move(name)] = std::move(fn);
}

caf::error server::start() {
  auto& self = *impl_;
  if (self.started.exchange(true))
    return caf::make_error(caf::sec::invalid_argument,
                           "the health server was already started");
  error_code ec;
  auto addr = asio::ip::make_address(self.cfg.address, ec);
  if (ec)
    return caf::make_error(caf::sec::invalid_argument,
                           "invalid listen address: " + self.cfg.address);
  tcp::endpoint ep{addr, self.cfg.port};
  self.acceptor.open(ep.protocol(), ec);
  if (!ec)
    self.acceptor.set_option(tcp::acceptor::reuse_address{true}, ec);
  if (!ec)
    self.acceptor.bind(ep, ec);
  if (!ec)
    self.acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return caf::make_error(caf::sec::runtime_error,
                           "cannot listen on port "
                             + std::to_string(self.cfg.port) + ": "
                             + ec.message());
  self.port = self.acceptor.local_endpoint().port();
  self.do_accept();
  self.thread = std::thread([&self] { self.io.run(); });
  return {};
}

std::uint16_t server::port() const noexcept {
  return impl_->port;
}

void server::stop() {
  auto& self = *impl_;
  std::lock_guard<std::mutex> guard{self.stop_mtx};
  if (self.stopped.exchange(true))
    return;
  // Late answers of routes are dropped from now on.
  self.answers->close();
  // Dropping every pending operation ends all sessions.
  self.io.stop();
  if (self.thread.joinable())
    self.thread.join();
  error_code ignored;
  self.acceptor.close(ignored);
}

} // namespace istio_csr::health
