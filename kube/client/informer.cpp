#include "kube/client/informer.hpp"

#include <atomic>
#include <mutex>
#include <random>
#include <shared_mutex>
#include <stop_token>

#include "errors/describe.hpp"
#include "kube/api/errc.hpp"
#include "kube/api/object.hpp"
#include "kube/client/client.hpp"
#include "logging/logging.hpp"
#include "retry/backoff.hpp"

namespace istio_csr::kube {

struct informer::impl : std::enable_shared_from_this<informer::impl> {
  impl(std::shared_ptr<client> c, informer_options o, informer_handler h)
    : cli(std::move(c)), opts(std::move(o)), handler(std::move(h)),
      rng(std::random_device{}()), log(logging::get("kube-client")) {
    if (opts.name.empty())
      opts.name = std::string{opts.res.plural};
  }

  std::shared_ptr<client> cli;
  informer_options opts;
  informer_handler handler;
  std::mt19937_64 rng;
  std::shared_ptr<spdlog::logger> log;

  // Shared with readers on other threads.
  mutable std::shared_mutex mtx;
  informer_cache cache;
  uint64_t sequence = 0;
  bool is_synced = false;
  std::string rv;
  informer::stats counters;

  // Client thread only.
  std::atomic<bool> stopped{false};
  /// Stopped with the informer: a list page still waiting in the client
  /// (rate limiter, retry backoff) is then not sent.
  std::stop_source lists;
  std::mutex watch_mtx;
  std::shared_ptr<watch_handle> watch; // guarded by watch_mtx
  /// Failures since the last success (the backoff's attempt).
  size_t failures = 0;
  std::chrono::steady_clock::time_point watch_started;
  bool watch_had_events = false;
  /// The list being assembled, page by page.
  std::map<std::string, informer_cache::entry> pending;
  std::string pending_rv;

  std::string key_of(const nlohmann::json& obj) const {
    object_ref ref{obj};
    return object_key(ref.namespace_(), ref.name());
  }

  informer_cache::entry make_entry(nlohmann::json obj) const {
    informer_cache::entry e;
    e.resource_version = object_ref{obj}.resource_version();
    if (opts.transform)
      obj = opts.transform(std::move(obj));
    e.object = std::make_shared<const nlohmann::json>(std::move(obj));
    return e;
  }

  void deliver(std::vector<informer_event>& events) {
    for (auto& ev : events) {
      if (stopped)
        return;
      if (handler)
        handler(ev);
    }
  }

  std::chrono::milliseconds next_backoff() {
    retry::backoff policy{.initial = opts.initial_backoff,
                          .max = opts.max_backoff,
                          .multiplier = 2.0,
                          .jitter_low = 0.5,
                          .jitter_high = 1.0};
    return std::chrono::duration_cast<std::chrono::milliseconds>(
      policy.delay(++failures, rng));
  }

  /// Lists page by page, transforming each page as it arrives: a re-list
  /// of 50,000 pods never holds all of them untransformed at once.
  void list() {
    if (stopped)
      return;
    {
      std::unique_lock guard{mtx};
      ++counters.lists;
    }
    pending.clear();
    pending_rv.clear();
    list_page({});
  }

  void list_page(std::string continue_token) {
    list_options lo;
    lo.label_selector = opts.label_selector;
    lo.field_selector = opts.field_selector;
    lo.limit = opts.page_size;
    lo.continue_token = std::move(continue_token);
    auto continuing = !lo.continue_token.empty();
    std::weak_ptr<impl> weak = shared_from_this();
    auto req = request::list_of(opts.res, opts.namespace_, std::move(lo));
    req.cancel = lists.get_token();
    cli->execute(std::move(req),
                 [weak, continuing](caf::expected<nlohmann::json> result) {
                   if (auto self = weak.lock())
                     self->on_page(std::move(result), continuing);
                 });
  }

  void on_page(caf::expected<nlohmann::json> result, bool continuing) {
    if (stopped)
      return;
    if (!result) {
      pending.clear();
      if (continuing && is(result.error(), errc::gone)) {
        // The continue token expired: list again from the start.
        logging::debug(*log, "informer continue token expired, listing again",
                       {{"informer", opts.name}});
        list();
        return;
      }
      auto delay = next_backoff();
      logging::warn(*log, "informer list failed, retrying",
                    {{"informer", opts.name},
                     {"err", errors::describe(result.error())},
                     {"delay_ms", std::to_string(delay.count())}});
      schedule(delay, [](impl& self) { self.list(); });
      return;
    }
    if (!continuing)
      pending_rv = object_ref{*result}.resource_version();
    if (auto i = result->find("items"); i != result->end() && i->is_array())
      for (auto& item : *i) {
        auto key = key_of(item);
        pending.insert_or_assign(std::move(key), make_entry(std::move(item)));
      }
    std::string next;
    if (auto meta = result->find("metadata");
        meta != result->end() && meta->is_object())
      if (auto c = meta->find("continue"); c != meta->end() && c->is_string())
        next = c->get<std::string>();
    result = nlohmann::json{}; // free the raw page before the next one
    if (!next.empty()) {
      list_page(std::move(next));
      return;
    }
    on_listed();
  }

  void on_listed() {
    std::vector<informer_event> events;
    {
      std::unique_lock guard{mtx};
      rv = std::move(pending_rv);
      events = cache.replace(std::exchange(pending, {}));
      for (auto& ev : events)
        ev.sequence = ++sequence;
      if (!is_synced) {
        is_synced = true;
        events.push_back(
          informer_event{informer_event_type::synced, {}, {}, ++sequence});
      }
    }
    logging::trace(*log, "informer listed",
                   {{"informer", opts.name},
                    {"objects", std::to_string(cache_size())},
                    {"changes", std::to_string(events.size())},
                    {"resource_version", resource_version()}});
    failures = 0;
    deliver(events);
    start_watch();
  }

  std::string resource_version() const {
    std::shared_lock guard{mtx};
    return rv;
  }

  size_t cache_size() const {
    std::shared_lock guard{mtx};
    return cache.size();
  }

  void start_watch() {
    if (stopped)
      return;
    list_options lo;
    lo.label_selector = opts.label_selector;
    lo.field_selector = opts.field_selector;
    {
      std::unique_lock guard{mtx};
      lo.resource_version = rv;
      ++counters.watches;
    }
    lo.allow_watch_bookmarks = true;
    auto min = std::max<int64_t>(1, opts.min_watch_timeout.count());
    lo.timeout_seconds = static_cast<int>(
      std::uniform_int_distribution<int64_t>{min, 2 * min - 1}(rng));
    watch_started = std::chrono::steady_clock::now();
    watch_had_events = false;
    std::weak_ptr<impl> weak = shared_from_this();
    auto handle = cli->watch(
      request::watch(opts.res, opts.namespace_, std::move(lo)),
      [weak](watch_event&& ev) {
        if (auto self = weak.lock())
          self->on_event(std::move(ev));
      },
      [weak](caf::error err) {
        if (auto self = weak.lock())
          self->on_watch_end(std::move(err));
      });
    std::lock_guard guard{watch_mtx};
    watch = std::move(handle);
    // stop() may have run between our check and now.
    if (stopped) {
      watch->cancel();
      watch.reset();
    }
  }

  void on_event(watch_event&& ev) {
    if (stopped)
      return;
    watch_had_events = true;
    failures = 0;
    if (ev.type == watch_event_type::bookmark) {
      auto& version = object_ref{ev.object}.resource_version();
      if (!version.empty()) {
        std::unique_lock guard{mtx};
        rv = version;
      }
      return;
    }
    auto key = key_of(ev.object);
    auto entry = make_entry(std::move(ev.object));
    auto version = entry.resource_version;
    std::optional<informer_event> out;
    {
      std::unique_lock guard{mtx};
      out = cache.apply(ev.type, key, std::move(entry));
      if (!version.empty())
        rv = version;
      if (out)
        out->sequence = ++sequence;
    }
    if (out && handler)
      handler(*out);
  }

  void on_watch_end(caf::error err) {
    {
      std::lock_guard guard{watch_mtx};
      watch.reset();
    }
    if (stopped)
      return;
    if (!err) {
      // The server ended the stream (timeoutSeconds): resume at once,
      // unless it ends streams immediately, which would make us spin.
      auto quick = std::chrono::steady_clock::now() - watch_started
                   < std::chrono::seconds{1};
      if (quick && !watch_had_events) {
        schedule(next_backoff(), [](impl& self) { self.start_watch(); });
        return;
      }
      start_watch();
      return;
    }
    {
      std::unique_lock guard{mtx};
      ++counters.watch_errors;
      if (is(err, errc::gone))
        ++counters.relists_after_gone;
    }
    if (is(err, errc::gone)) {
      logging::debug(*log, "informer watch expired, listing again",
                     {{"informer", opts.name}, {"err", errors::describe(err)}});
      list();
      return;
    }
    auto delay = next_backoff();
    logging::warn(*log, "informer watch failed, resuming",
                  {{"informer", opts.name},
                   {"err", errors::describe(err)},
                   {"delay_ms", std::to_string(delay.count())}});
    schedule(delay, [](impl& self) { self.start_watch(); });
  }

  void schedule(std::chrono::milliseconds delay, void (*fn)(impl&)) {
    std::weak_ptr<impl> weak = shared_from_this();
    cli->schedule(delay, [weak, fn] {
      if (auto self = weak.lock(); self && !self->stopped)
        fn(*self);
    });
  }

  /// Callable from any thread. It captures nothing of the informer into the
  /// client thread, so that the informer (and the client it may own last)
  /// is destroyed where its owner drops it, not on the client's thread.
  void stop() {
    if (stopped.exchange(true))
      return;
    lists.request_stop();
    std::shared_ptr<watch_handle> handle;
    {
      std::lock_guard guard{watch_mtx};
      handle = std::move(watch);
    }
    if (handle)
      handle->cancel();
  }
};

informer::informer(std::shared_ptr<impl> ptr) : impl_(std::move(ptr)) {
  // nop
}

std::shared_ptr<informer> informer::make(std::shared_ptr<client> c,
                                         informer_options opts,
                                         informer_handler handler) {
  auto ptr
    = std::make_shared<impl>(std::move(c), std::move(opts), std::move(handler));
  return std::shared_ptr<informer>{new informer(std::move(ptr))};
}

informer::~informer() {
  impl_->stop();
}

void informer::start() {
  std::weak_ptr<impl> weak = impl_;
  impl_->cli->post([weak] {
    if (auto self = weak.lock())
      self->list();
  });
}

void informer::stop() {
  impl_->stop();
}

bool informer::stopped() const noexcept {
  return impl_->stopped;
}

bool informer::synced() const {
  std::shared_lock guard{impl_->mtx};
  return impl_->is_synced;
}

object_ptr informer::get(std::string_view namespace_,
                         std::string_view name) const {
  std::shared_lock guard{impl_->mtx};
  return impl_->cache.get(object_key(namespace_, name));
}

std::vector<object_ptr> informer::list() const {
  std::shared_lock guard{impl_->mtx};
  return impl_->cache.list();
}

size_t informer::size() const {
  std::shared_lock guard{impl_->mtx};
  return impl_->cache.size();
}

informer::snapshot informer::take_snapshot() const {
  std::shared_lock guard{impl_->mtx};
  return snapshot{impl_->sequence, impl_->is_synced, impl_->cache.list()};
}

std::string informer::resource_version() const {
  std::shared_lock guard{impl_->mtx};
  return impl_->rv;
}

informer::stats informer::get_stats() const {
  std::shared_lock guard{impl_->mtx};
  return impl_->counters;
}

const informer_options& informer::options() const noexcept {
  return impl_->opts;
}

} // namespace istio_csr::kube
