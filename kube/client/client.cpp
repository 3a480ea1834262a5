#include "kube/client/client.hpp"

#include <sys/stat.h>

#include <atomic>
#include <fstream>
#include <random>
#include <sstream>
#include <stop_token>
#include <thread>
#include <unordered_set>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "errors/describe.hpp"
#include "kube/api/errc.hpp"
#include "kube/api/status.hpp"
#include "kube/client/http_transport.hpp"
#include "kube/client/rate_limiter.hpp"
#include "logging/logging.hpp"

namespace istio_csr::kube {

namespace asio = boost::asio;
using clock_type = std::chrono::steady_clock;

watch_handle::~watch_handle() = default;

namespace {

/// Splits `https://host[:port][/prefix]`.
struct server_url {
  std::string host;
  std::string port;
  std::string prefix;
};

caf::expected<server_url> parse_server(const std::string& url) {
  auto fail = [&](std::string why) {
    return make_error(errc::config_error,
                      "server \"" + url + "\": " + std::move(why));
  };
  std::string_view rest{url};
  if (rest.starts_with("https://"))
    rest.remove_prefix(8);
  else if (rest.find("://") != std::string_view::npos)
    return fail("only https:// is supported");
  // A bare host[:port] (kubectl accepts it) means https.
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  server_url result;
  if (slash != std::string_view::npos) {
    result.prefix = std::string{rest.substr(slash)};
    while (!result.prefix.empty() && result.prefix.back() == '/')
      result.prefix.pop_back();
  }
  if (authority.empty())
    return fail("no host");
  if (authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos)
      return fail("unterminated IPv6 address");
    result.host = std::string{authority.substr(1, close - 1)};
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':')
        return fail("bad port");
      result.port = std::string{after.substr(1)};
    }
  } else {
    auto colon = authority.rfind(':');
    if (colon != std::string_view::npos) {
      result.host = std::string{authority.substr(0, colon)};
      result.port = std::string{authority.substr(colon + 1)};
    } else {
      result.host = std::string{authority};
    }
  }
  if (result.port.empty())
    result.port = "443";
  for (char c : result.port)
    if (c < '0' || c > '9')
      return fail("bad port");
  if (result.host.empty())
    return fail("no host");
  return result;
}

std::string trim(std::string text) {
  auto is_space
    = [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; };
  while (!text.empty() && is_space(text.back()))
    text.pop_back();
  size_t i = 0;
  while (i < text.size() && is_space(text[i]))
    ++i;
  return text.substr(i);
}

/// Identity of a file's content, as far as `stat` can tell.
struct file_id {
  ino_t inode = 0;
  off_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;

  friend bool operator==(const file_id&, const file_id&) = default;
};

int64_t to_ns(const timespec& ts) {
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

} // namespace

// -- implementation -----------------------------------------------------------

struct request_op;
struct watch_op;

struct client::impl : std::enable_shared_from_this<client::impl> {
  using strand_type = asio::strand<asio::io_context::executor_type>;

  impl(client_config config, client_options options, asio::io_context& ioc)
    : cfg(std::move(config)), opts(std::move(options)),
      strand(asio::make_strand(ioc)),
      limiter(cfg.disable_rate_limiter ? 0.0 : cfg.qps, cfg.burst,
              clock_type::now()),
      rng(std::random_device{}()), log(logging::get("kube-client")) {
    // nop
  }

  // -- set-up, run by make() --------------------------------------------------

  client_config cfg;
  client_options opts;
  std::unique_ptr<asio::io_context> own_ioc;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>>
    work;
  std::thread thread;
  strand_type strand;
  std::shared_ptr<detail::http_transport> transport;
  std::string prefix;

  // -- strand state
  // -------------------------------------------------------------

  rate_limiter limiter;
  std::mt19937_64 rng;
  bool stopped = false;
  std::string token;
  std::optional<file_id> token_id;
  bool token_reload = false;
  bool token_warned = false;
  std::unordered_set<asio::steady_timer*> timers;
  /// Running watches (they live until they end or are cancelled, whether or
  /// not the caller keeps the handle).
  std::unordered_set<std::shared_ptr<watch_op>> watches;

  // -- any thread -------------------------------------------------------------

  std::shared_ptr<spdlog::logger> log;
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> retries{0};
  std::atomic<uint64_t> throttled{0};
  std::atomic<uint64_t> cancelled{0};
  std::atomic<uint64_t> watches_started{0};
  std::atomic<uint64_t> connections_opened{0};
  std::atomic<uint64_t> connections_reused{0};

  // -- helpers (strand)
  // -----------------------------------------------------------

  template <class F>
  void dispatch(F&& fn) {
    asio::dispatch(strand, std::forward<F>(fn));
  }

  /// Ends a timer's wait early when stop is requested: runs on the thread
  /// that requests it (a requesting actor's), so it only posts to the
  /// strand.
  struct timer_waker {
    std::weak_ptr<impl> owner;
    std::weak_ptr<asio::steady_timer> timer;

    void operator()() const {
      if (auto self = owner.lock())
        asio::post(self->strand, [timer = timer] {
          if (auto t = timer.lock())
            t->cancel();
        });
    }
  };

  /// Runs `fn(true)` after `delay`, or `fn(false)` if the client stops or
  /// `stop` is requested first.
  void after(clock_type::duration delay, std::function<void(bool)> fn,
             const std::stop_token& stop = {}) {
    if (stopped || stop.stop_requested()) {
      fn(false);
      return;
    }
    auto timer = std::make_shared<asio::steady_timer>(strand, delay);
    timers.insert(timer.get());
    std::shared_ptr<void> waker;
    if (stop.stop_possible())
      waker = std::make_shared<std::stop_callback<timer_waker>>(
        stop, timer_waker{weak_from_this(), timer});
    timer->async_wait(
      [self = shared_from_this(), timer, waker,
       fn = std::move(fn)](const boost::system::error_code& ec) mutable {
        self->timers.erase(timer.get());
        waker.reset();
        fn(!ec && !self->stopped);
      });
  }

  /// Runs `fn(true)` once the rate limiter allows one more request, or
  /// `fn(false)` if the client stops or `stop` is requested while it waits
  /// (then the token goes back to the limiter if it can).
  void throttle(const std::stop_token& stop, std::function<void(bool)> fn) {
    auto r = limiter.reserve(clock_type::now());
    if (r.delay <= clock_type::duration::zero()) {
      fn(!stopped);
      return;
    }
    ++throttled;
    after(
      r.delay,
      [this, id = r.id, stop, fn = std::move(fn)](bool ok) {
        if (!stopped && stop.stop_requested())
          limiter.cancel(id, clock_type::now());
        fn(ok);
      },
      stop);
  }

  double jitter() {
    return std::uniform_real_distribution<double>{0.0, 1.0}(rng);
  }

  /// The bearer token to send: the token file's content, re-read when the
  /// file changed (projected tokens rotate), else the static token.
  const std::string& current_token() {
    if (cfg.token_file.empty())
      return cfg.token;
    struct stat st {};
    if (::stat(cfg.token_file.c_str(), &st) != 0) {
      if (!token_warned) {
        token_warned = true;
        logging::warn(*log, "cannot stat the token file; using the last token",
                      {{"file", cfg.token_file}});
      }
      return token.empty() ? cfg.token : token;
    }
    file_id id{st.st_ino, st.st_size, to_ns(st.st_mtim), to_ns(st.st_ctim)};
    if (!token_reload && token_id && *token_id == id)
      return token;
    token_reload = false;
    std::ifstream in{cfg.token_file, std::ios::binary};
    std::ostringstream buf;
    buf << in.rdbuf();
    auto text = trim(buf.str());
    if (!in || text.empty()) {
      if (!token_warned) {
        token_warned = true;
        logging::warn(*log, "cannot read the token file; using the last token",
                      {{"file", cfg.token_file}});
      }
      return token.empty() ? cfg.token : token;
    }
    if (token_id)
      logging::trace(*log, "token file changed, reloaded",
                     {{"file", cfg.token_file}});
    token_warned = false;
    token = std::move(text);
    token_id = id;
    return token;
  }

  detail::http_request make_http(const request& req, const std::string& tok) {
    detail::http_request result;
    result.method = std::string{req.http_method()};
    result.target = prefix + req.target();
    result.headers.emplace_back("Accept", "application/json");
    result.headers.emplace_back("User-Agent", opts.user_agent);
    if (!tok.empty())
      result.headers.emplace_back("Authorization", "Bearer " + tok);
    if (!cfg.impersonate_user.empty())
      result.headers.emplace_back("Impersonate-User", cfg.impersonate_user);
    if (!cfg.impersonate_uid.empty())
      result.headers.emplace_back("Impersonate-Uid", cfg.impersonate_uid);
    for (auto& group : cfg.impersonate_groups)
      result.headers.emplace_back("Impersonate-Group", group);
    for (auto& [key, values] : cfg.impersonate_extra)
      for (auto& value : values)
        result.headers.emplace_back("Impersonate-Extra-" + url_encode(key),
                                    value);
    result.content_type = std::string{req.content_type()};
    result.body = req.body_text();
    return result;
  }

  void note_transport_stats() {
    auto s = transport->stats();
    connections_opened = s.connections_opened;
    connections_reused = s.reused;
  }

  void start(std::shared_ptr<request_op> op);
  void send(std::shared_ptr<request_op> op);
  void end_unsent(std::shared_ptr<request_op> op);
  void on_result(std::shared_ptr<request_op> op, detail::exchange_result r);
  void retry_or_complete(std::shared_ptr<request_op> op,
                         retry_policy::failure f);
  void complete(std::shared_ptr<request_op> op,
                caf::expected<nlohmann::json> result);

  void start_watch(std::shared_ptr<watch_op> op);
  void open_watch(std::shared_ptr<watch_op> op);
  void on_watch_end(std::shared_ptr<watch_op> op, caf::error err, bool sent);
  void end_watch(watch_op& op, caf::error err);

  void shutdown();
};

/// One request through its attempts (and pages).
struct request_op {
  request req;
  result_handler done;
  int attempt = 0;
  clock_type::time_point deadline = clock_type::time_point::max();
  std::string token_used;
  bool token_retried = false;
  /// all_pages: the items so far, the first page's list.
  nlohmann::json items = nlohmann::json::array();
  nlohmann::json first_page;
  int restarts = 0;
};

/// One watch through its connection attempts (before the first event).
struct watch_op : watch_handle, std::enable_shared_from_this<watch_op> {
  std::weak_ptr<client::impl> owner;
  request req;
  watch_event_handler on_event;
  watch_done_handler on_done;
  int attempt = 0;
  std::shared_ptr<detail::stream_handle> stream;
  watch_decoder decoder;
  int status = 0;
  std::optional<std::chrono::seconds> retry_after;
  std::string error_body;
  std::string token_used;
  bool token_retried = false;
  bool events_seen = false;
  bool finished = false;

  void cancel() override {
    auto self = owner.lock();
    if (!self)
      return;
    auto run = [op = shared_from_this(), self] {
      if (op->finished)
        return;
      op->finished = true;
      self->watches.erase(op);
      if (op->stream)
        op->stream->cancel();
      op->stream.reset();
    };
    if (self->strand.running_in_this_thread())
      run();
    else
      asio::post(self->strand, run);
  }
};

void client::impl::start(std::shared_ptr<request_op> op) {
  if (op->req.method == verb::watch)
    return complete(op, make_error(errc::bad_request,
                                   "a watch needs client::watch, not execute"));
  if (stopped || op->req.cancel.stop_requested())
    return end_unsent(op);
  throttle(op->req.cancel, [self = shared_from_this(), op](bool ok) {
    if (!ok)
      return self->end_unsent(op);
    self->send(op);
  });
}

/// Completes `op` before its next attempt: the client stopped, or its
/// requester cancelled it (`request::cancel`).
void client::impl::end_unsent(std::shared_ptr<request_op> op) {
  if (stopped)
    return complete(op, make_error(errc::cancelled, "client stopped"));
  ++cancelled;
  complete(op, make_error(errc::cancelled,
                          to_string(op->req.method) + " " + op->req.target()
                            + ": not sent, cancelled by its requester"));
}

void client::impl::send(std::shared_ptr<request_op> op) {
  if (op->req.cancel.stop_requested())
    return end_unsent(op);
  if (op->deadline != clock_type::time_point::max()
      && clock_type::now() >= op->deadline)
    return complete(
      op, make_error(errc::timeout, to_string(op->req.method) + " "
                                      + op->req.target()
                                      + ": request timeout exceeded"));
  op->token_used = current_token();
  detail::http_request http;
  try {
    http = make_http(op->req, op->token_used);
  } catch (const std::exception&) {
    // For one, a string that is not UTF-8 in a body (nlohmann's dump
    // throws). The text of the exception is not logged: it may quote bytes
    // of a token.
    return complete(op, make_error(errc::bad_request,
                                   to_string(op->req.method) + " "
                                     + op->req.target()
                                     + ": cannot encode the request body"));
  }
  ++op->attempt;
  ++requests;
  if (op->attempt > 1)
    ++retries;
  transport->exchange(
    std::move(http), op->deadline,
    [self = shared_from_this(), op](detail::exchange_result r) {
      self->on_result(op, std::move(r));
    });
}

void client::impl::on_result(std::shared_ptr<request_op> op,
                             detail::exchange_result r) {
  note_transport_stats();
  if (r.err) {
    retry_policy::failure f;
    f.err = std::move(r.err);
    f.request_sent = r.request_sent;
    f.idempotent = op->req.idempotent();
    f.attempt = op->attempt;
    return retry_or_complete(op, std::move(f));
  }
  auto status = r.response.status;
  auto& raw = r.response.body;
  auto body = raw.empty() ? nlohmann::json{}
                          : nlohmann::json::parse(raw, nullptr, false);
  if (status >= 200 && status < 300) {
    if (body.is_discarded())
      return complete(
        op, make_error(errc::decode_error, to_string(op->req.method) + " "
                                             + op->req.target()
                                             + ": the response is not JSON"));
    // Every answer of the API is an object (an object, a list, a Status);
    // callers rely on it (a list page is extended with its items).
    if (!raw.empty() && !body.is_object())
      return complete(
        op, make_error(errc::decode_error,
                       to_string(op->req.method) + " " + op->req.target()
                         + ": the response is not a JSON object"));
    if (!op->req.all_pages)
      return complete(op, std::move(body));
    // Paging: collect the items, follow `continue`.
    if (auto items = body.find("items");
        items != body.end() && items->is_array())
      for (auto& item : *items)
        op->items.push_back(std::move(item));
    if (op->first_page.is_null())
      op->first_page = body;
    std::string next;
    if (auto meta = body.find("metadata");
        meta != body.end() && meta->is_object()) {
      auto cont = meta->find("continue");
      if (cont != meta->end() && cont->is_string())
        next = cont->get<std::string>();
    }
    if (!next.empty()) {
      op->req.list.continue_token = std::move(next);
      op->attempt = 0;
      return start(op);
    }
    auto result = std::move(op->first_page);
    result["items"] = std::move(op->items);
    if (auto meta = result.find("metadata");
        meta != result.end() && meta->is_object()) {
      meta->erase("continue");
      meta->erase("remainingItemCount");
    }
    return complete(op, std::move(result));
  }
  if (body.is_discarded())
    body = nlohmann::json{};
  auto err = error_from_status(status, body, raw);
  // A rotated token: the file changed between our check and the server's.
  if (status == 401 && !cfg.token_file.empty() && !op->token_retried) {
    op->token_retried = true;
    token_reload = true;
    if (current_token() != op->token_used) {
      op->attempt = std::max(0, op->attempt - 1);
      return start(op);
    }
  }
  // An expired continue token: start the list again.
  if (is(err, errc::gone) && op->req.all_pages
      && !op->req.list.continue_token.empty() && op->restarts < 3) {
    ++op->restarts;
    op->req.list.continue_token.clear();
    op->items = nlohmann::json::array();
    op->first_page = nullptr;
    op->attempt = 0;
    logging::debug(*log, "continue token expired, listing again",
                   {{"path", op->req.target()}});
    return start(op);
  }
  retry_policy::failure f;
  f.err = std::move(err);
  f.request_sent = true;
  f.idempotent = op->req.idempotent();
  f.attempt = op->attempt;
  f.retry_after = r.response.retry_after;
  if (!f.retry_after && body.is_object())
    if (auto secs = status_view{body}.retry_after_seconds())
      f.retry_after = std::chrono::seconds{*secs};
  retry_or_complete(op, std::move(f));
}

void client::impl::retry_or_complete(std::shared_ptr<request_op> op,
                                     retry_policy::failure f) {
  auto delay = stopped ? std::nullopt : opts.retry.next_delay(f, jitter());
  if (delay && op->deadline != clock_type::time_point::max()
      && clock_type::now() + *delay >= op->deadline)
    delay = std::nullopt;
  if (!delay)
    return complete(op, std::move(f.err));
  logging::debug(*log, "retrying request",
                 {{"verb", to_string(op->req.method)},
                  {"path", op->req.target()},
                  {"attempt", std::to_string(f.attempt)},
                  {"delay_ms", std::to_string(delay->count())},
                  {"err", errors::describe(f.err)}});
  after(
    *delay,
    [self = shared_from_this(), op](bool ok) {
      if (!ok)
        return self->end_unsent(op);
      self->start(op);
    },
    op->req.cancel);
}

void client::impl::complete(std::shared_ptr<request_op> op,
                            caf::expected<nlohmann::json> result) {
  if (!op->done)
    return;
  if (!result)
    logging::trace(*log, "request failed",
                   {{"verb", to_string(op->req.method)},
                    {"path", op->req.target()},
                    {"err", errors::describe(result.error())}});
  auto done = std::move(op->done);
  op->done = nullptr;
  try {
    done(std::move(result));
  } catch (const std::exception& e) {
    // The request is complete; its owner failed on the answer.
    logging::error(*log, "exception in a Kubernetes request callback",
                   {{"verb", to_string(op->req.method)},
                    {"path", op->req.target()},
                    {"what", e.what()}});
  }
}

// -- watches
// --------------------------------------------------------------------

void client::impl::start_watch(std::shared_ptr<watch_op> op) {
  if (op->finished)
    return;
  if (stopped) {
    op->finished = true;
    return;
  }
  throttle({}, [self = shared_from_this(), op](bool ok) {
    if (!ok || op->finished) {
      op->finished = true;
      self->watches.erase(op);
      return;
    }
    self->open_watch(op);
  });
}

void client::impl::open_watch(std::shared_ptr<watch_op> op) {
  ++op->attempt;
  ++requests;
  if (op->attempt > 1)
    ++retries;
  ++watches_started;
  op->status = 0;
  op->retry_after.reset();
  op->error_body.clear();
  op->decoder = watch_decoder{};
  op->token_used = current_token();
  auto idle = opts.watch_idle_timeout;
  if (op->req.list.timeout_seconds)
    idle = std::chrono::seconds{*op->req.list.timeout_seconds + 30};
  detail::stream_callbacks cb;
  std::weak_ptr<watch_op> weak = op;
  cb.on_headers
    = [weak](int status, std::optional<std::chrono::seconds> retry_after) {
        if (auto op = weak.lock()) {
          op->status = status;
          op->retry_after = retry_after;
        }
      };
  cb.on_data
    = [weak, self = shared_from_this()](const char* data, size_t size) {
        auto op = weak.lock();
        if (!op || op->finished)
          return;
        if (op->status != 200) {
          if (op->error_body.size() < 65536)
            op->error_body.append(data, std::min<size_t>(size, 65536));
          return;
        }
        std::vector<watch_event> events;
        auto err = op->decoder.feed(std::string_view{data, size}, events);
        for (auto& ev : events) {
          if (op->finished)
            return;
          if (ev.type == watch_event_type::error) {
            // ERROR ends the watch: a Status, typically 410 Expired.
            auto status_err = error_from_status(ev.object);
            if (op->stream)
              op->stream->cancel();
            return self->end_watch(*op, std::move(status_err));
          }
          op->events_seen = true;
          op->on_event(std::move(ev));
        }
        if (err && !op->finished) {
          if (op->stream)
            op->stream->cancel();
          self->end_watch(*op, std::move(err));
        }
      };
  cb.on_end = [weak, self = shared_from_this()](caf::error err, bool sent) {
    if (auto op = weak.lock())
      self->on_watch_end(op, std::move(err), sent);
  };
  op->stream = transport->stream(make_http(op->req, op->token_used), idle,
                                 std::move(cb));
  note_transport_stats();
}

void client::impl::on_watch_end(std::shared_ptr<watch_op> op, caf::error err,
                                bool sent) {
  if (op->finished)
    return;
  op->stream.reset();
  retry_policy::failure f;
  f.idempotent = true;
  f.attempt = op->attempt;
  f.request_sent = sent;
  if (err) {
    if (op->events_seen || op->status == 200)
      return end_watch(*op, std::move(err));
    f.err = std::move(err);
  } else if (op->status == 200) {
    return end_watch(*op, op->decoder.finish());
  } else {
    auto body = nlohmann::json::parse(op->error_body, nullptr, false);
    if (body.is_discarded())
      body = nlohmann::json{};
    f.err = error_from_status(op->status, body, op->error_body);
    if (op->status == 401 && !cfg.token_file.empty() && !op->token_retried) {
      op->token_retried = true;
      token_reload = true;
      if (current_token() != op->token_used)
        return start_watch(op);
    }
    f.retry_after = op->retry_after;
  }
  auto delay = stopped ? std::nullopt : opts.retry.next_delay(f, jitter());
  if (!delay)
    return end_watch(*op, std::move(f.err));
  logging::debug(*log, "retrying watch",
                 {{"path", op->req.target()},
                  {"attempt", std::to_string(f.attempt)},
                  {"err", errors::describe(f.err)}});
  after(*delay, [self = shared_from_this(), op](bool ok) {
    if (!ok) {
      op->finished = true;
      self->watches.erase(op);
      return;
    }
    self->start_watch(op);
  });
}

void client::impl::end_watch(watch_op& op, caf::error err) {
  if (op.finished)
    return;
  op.finished = true;
  auto keep = op.shared_from_this();
  watches.erase(keep);
  op.stream.reset();
  if (stopped)
    return;
  auto done = std::move(op.on_done);
  op.on_done = nullptr;
  op.on_event = nullptr;
  if (done)
    done(std::move(err));
}

void client::impl::shutdown() {
  if (stopped)
    return;
  stopped = true;
  transport->shutdown();
  for (auto timer : timers)
    timer->cancel();
  auto live = std::move(watches);
  watches.clear();
  for (auto& op : live) {
    op->finished = true;
    if (op->stream)
      op->stream->cancel();
    op->stream.reset();
  }
}

// -- client -------------------------------------------------------------------

client::client(std::shared_ptr<impl> ptr) : impl_(std::move(ptr)) {
  // nop
}

caf::expected<std::shared_ptr<client>> client::make(client_config cfg,
                                                    client_options opts) {
  auto url = parse_server(cfg.server);
  if (!url)
    return url.error();
  std::unique_ptr<asio::io_context> own;
  auto ioc = opts.io_context;
  if (ioc == nullptr) {
    own = std::make_unique<asio::io_context>(1);
    ioc = own.get();
  }
  auto ptr = std::make_shared<impl>(std::move(cfg), std::move(opts), *ioc);
  ptr->own_ioc = std::move(own);
  ptr->prefix = url->prefix;
  detail::transport_settings ts;
  ts.host = url->host;
  ts.port = url->port;
  ts.server_name = ptr->cfg.tls_server_name;
  ts.ca_pem = ptr->cfg.ca_pem;
  ts.insecure_skip_tls_verify = ptr->cfg.insecure_skip_tls_verify;
  ts.client_cert_pem = ptr->cfg.client_cert_pem;
  ts.client_key_pem = ptr->cfg.client_key_pem;
  ts.max_connections = std::max<size_t>(1, ptr->opts.max_connections);
  ts.max_idle = ptr->opts.max_idle_connections;
  ts.connect_timeout = ptr->opts.connect_timeout;
  auto transport = detail::http_transport::make(ptr->strand, std::move(ts));
  if (!transport)
    return transport.error();
  ptr->transport = std::move(*transport);
  if (ptr->cfg.disable_rate_limiter)
    logging::info(*ptr->log, "client-side rate limiter disabled");
  logging::debug(*ptr->log, "Kubernetes client configured",
                 {{"server", ptr->cfg.server}, {"source", ptr->cfg.source}});
  if (ptr->own_ioc) {
    ptr->work.emplace(ptr->own_ioc->get_executor());
    // The thread shares ownership: if the client is destroyed from one of
    // its own callbacks, the thread is detached and frees the impl last.
    ptr->thread = std::thread{[self = ptr] {
      for (;;) {
        try {
          self->own_ioc->run();
          return;
        } catch (const std::exception& e) {
          logging::error(*self->log,
                         "exception in a Kubernetes client callback",
                         {{"what", e.what()}});
        }
      }
    }};
  }
  return std::shared_ptr<client>{new client(std::move(ptr))};
}

client::~client() {
  auto ptr = impl_;
  asio::dispatch(ptr->strand, [ptr] { ptr->shutdown(); });
  if (ptr->own_ioc) {
    ptr->work.reset();
    if (ptr->thread.get_id() == std::this_thread::get_id()) {
      // Destroyed from one of our own callbacks: the thread ends by itself
      // once the cancelled operations have drained, and must not free the
      // io_context under its own feet.
      ptr->thread.detach();
    } else if (ptr->thread.joinable()) {
      ptr->thread.join();
    }
  }
}

void client::execute(request req, result_handler done) {
  auto op = std::make_shared<request_op>();
  op->req = std::move(req);
  op->done = std::move(done);
  if (impl_->cfg.request_timeout.count() > 0)
    op->deadline = clock_type::now() + impl_->cfg.request_timeout;
  impl_->dispatch([self = impl_, op] { self->start(op); });
}

std::shared_ptr<watch_handle> client::watch(request req,
                                            watch_event_handler on_event,
                                            watch_done_handler on_done) {
  auto op = std::make_shared<watch_op>();
  op->owner = impl_;
  req.method = verb::watch;
  op->req = std::move(req);
  op->on_event = std::move(on_event);
  op->on_done = std::move(on_done);
  impl_->dispatch([self = impl_, op] {
    self->watches.insert(op);
    self->start_watch(op);
  });
  return op;
}

void client::post(std::function<void()> fn) {
  asio::post(impl_->strand, [self = impl_, fn = std::move(fn)] {
    if (!self->stopped)
      fn();
  });
}

void client::schedule(std::chrono::milliseconds delay,
                      std::function<void()> fn) {
  impl_->dispatch([self = impl_, delay, fn = std::move(fn)]() mutable {
    self->after(delay, [fn = std::move(fn)](bool ok) {
      if (ok)
        fn();
    });
  });
}

const std::string& client::server() const noexcept {
  return impl_->cfg.server;
}

client_stats client::stats() const {
  client_stats s;
  s.requests = impl_->requests;
  s.retries = impl_->retries;
  s.throttled = impl_->throttled;
  s.cancelled = impl_->cancelled;
  s.connections_opened = impl_->connections_opened;
  s.connections_reused = impl_->connections_reused;
  s.watches_started = impl_->watches_started;
  return s;
}

} // namespace istio_csr::kube
