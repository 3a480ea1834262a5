#include "devcluster/watch.hpp"

#include <cstring>
#include <random>

#include <boost/asio/steady_timer.hpp>

namespace istio_csr::devcluster {

namespace {

using json = nlohmann::json;
namespace net = boost::asio;

constexpr auto bookmark_period = std::chrono::seconds{60};
constexpr auto bookmark_lead = std::chrono::seconds{2};

std::string wrap_event(const char* type, const std::string& object) {
  std::string line = R"({"type":")";
  line += type;
  line += R"(","object":)";
  line += object;
  line += "}\n";
  return line;
}

} // namespace

struct watch_stream::timers {
  explicit timers(net::io_context& ioc)
    : deadline(ioc), bookmark(ioc), drop(ioc) {}
  net::steady_timer deadline;
  net::steady_timer bookmark;
  net::steady_timer drop;
};

std::shared_ptr<const std::string> api_impl::event_line(const resource_type& t,
                                                        const char* type,
                                                        const object_ptr& o) {
  if (cache.obj == o && cache.type != nullptr
      && std::strcmp(cache.type, type) == 0)
    return cache.line;
  auto line
    = std::make_shared<const std::string>(wrap_event(type, object_json(t, *o)));
  cache.obj = o;
  cache.type = type;
  cache.line = line;
  return line;
}

watch_stream::watch_stream(api_impl& api, watch_params p)
  : api_(api), p_(std::move(p)), timers_(std::make_unique<timers>(api.ioc)) {
  api_.watches.insert(this);
}

watch_stream::~watch_stream() {
  if (subscribed_)
    api_.store.unsubscribe(*p_.type, p_.ns, this);
  api_.watches.erase(this);
}

http_response watch_stream::header() const {
  http_response r;
  r.status = 200;
  r.content_type = "application/json";
  r.headers.emplace_back("Cache-Control", "no-cache, private");
  return r;
}

void watch_stream::start(stream_sink& sink) {
  sink_ = &sink;
  auto& store = api_.store;
  auto now = std::chrono::steady_clock::now();
  std::chrono::seconds timeout;
  if (p_.timeout) {
    timeout = *p_.timeout;
  } else {
    // kube-apiserver: a random timeout between minRequestTimeout (30 min)
    // and twice that.
    static thread_local std::mt19937 rng{std::random_device{}()};
    timeout = std::chrono::seconds{
      std::uniform_int_distribution<int>(1800, 3600)(rng)};
  }
  deadline_ = now + timeout;
  batching_ = true;
  switch (p_.mode) {
    case watch_params::start_mode::since: {
      if (p_.since < store.oldest_resource_version()) {
        auto err = errors::expired(
          "too old resource version: " + std::to_string(p_.since) + " ("
          + std::to_string(store.oldest_resource_version()) + ")");
        emit_raw(wrap_event("ERROR", err.status.dump()));
        end();
        break;
      }
      store.for_each_change_since(p_.since, [&](const change& c) {
        if (c.type == p_.type && (p_.ns.empty() || c.object->ns == p_.ns))
          handle(c);
      });
      break;
    }
    case watch_params::start_mode::current_state:
    case watch_params::start_mode::initial_events: {
      auto visit = [&](const object_store::name_map& m) {
        for (auto& [_, o] : m)
          if (!ended_ && p_.filter.matches(*o))
            emit("ADDED", o, true);
      };
      if (!p_.ns.empty()) {
        if (auto* m = store.objects_in(*p_.type, p_.ns))
          visit(*m);
      } else {
        for (auto& [_, m] : store.objects(*p_.type))
          visit(m);
      }
      if (p_.mode == watch_params::start_mode::initial_events && !ended_)
        emit_bookmark(true);
      break;
    }
  }
  batching_ = false;
  flush();
  if (ended_) {
    sink_->finish();
    return;
  }
  store.subscribe(*p_.type, p_.ns, this);
  subscribed_ = true;
  std::weak_ptr<int> alive = alive_;
  timers_->deadline.expires_at(deadline_);
  timers_->deadline.async_wait([this, alive](const auto& ec) {
    if (!ec && alive.lock())
      end();
  });
  if (p_.bookmarks)
    schedule_bookmark();
  if (auto secs = api_.faults.watch().drop_after_seconds) {
    timers_->drop.expires_after(
      std::chrono::milliseconds{static_cast<int64_t>(*secs * 1000)});
    timers_->drop.async_wait([this, alive](const auto& ec) {
      if (!ec && alive.lock())
        end();
    });
  }
}

void watch_stream::schedule_bookmark() {
  auto now = std::chrono::steady_clock::now();
  auto last = deadline_ - bookmark_lead;
  auto at = std::min(now + bookmark_period, last);
  if (at < now) {
    if (now > deadline_)
      return;
    at = now;
  }
  std::weak_ptr<int> alive = alive_;
  timers_->bookmark.expires_at(at);
  timers_->bookmark.async_wait([this, alive, at, last](const auto& ec) {
    if (ec || !alive.lock() || ended_)
      return;
    emit_bookmark(false);
    if (at < last)
      schedule_bookmark();
  });
}

void watch_stream::on_change(const change& c) {
  if (ended_)
    return;
  handle(c);
}

void watch_stream::handle(const change& c) {
  bool cur = c.kind != change_type::deleted && p_.filter.matches(*c.object);
  bool old = c.prev && p_.filter.matches(*c.prev);
  if (cur && !old) {
    emit("ADDED", c.object, true);
  } else if (cur && old) {
    emit("MODIFIED", c.object, true);
  } else if (!cur && old) {
    if (c.kind == change_type::deleted) {
      emit("DELETED", c.object, true);
    } else {
      // Stopped matching: DELETED with its last matching state, at the
      // event's resourceVersion.
      auto body = c.prev->body;
      body["metadata"]["resourceVersion"] = std::to_string(c.rv);
      emit("DELETED", stored_object::make(std::move(body)), false);
    }
  }
}

void watch_stream::emit(const char* type, const object_ptr& obj,
                        bool shareable) {
  if (ended_)
    return;
  auto& t = *p_.type;
  if (p_.format == media::json && shareable && !batching_) {
    sink_->send(api_.event_line(t, type, obj));
  } else {
    std::string object;
    switch (p_.format) {
      case media::json: object = object_json(t, *obj); break;
      case media::metadata: object = partial_metadata(*obj).dump(); break;
      case media::table:
        object = api_.tables[t.id]
                   .table({obj.get()}, std::to_string(obj->rv), p_.include,
                          std::chrono::system_clock::now())
                   .dump();
        break;
    }
    emit_raw(wrap_event(type, object));
    if (ended_)
      return;
  }
  ++events_sent_;
  if (auto n = api_.faults.watch().drop_after_events; n && events_sent_ >= *n)
    end();
}

void watch_stream::emit_raw(std::string line) {
  if (batching_) {
    batch_ += line;
    return;
  }
  sink_->send(std::make_shared<const std::string>(std::move(line)));
}

void watch_stream::emit_bookmark(bool initial_events_end) {
  json meta{{"resourceVersion", std::to_string(api_.store.resource_version())},
            {"creationTimestamp", nullptr}};
  if (initial_events_end)
    meta["annotations"] = {{"k8s.io/initial-events-end", "true"}};
  json obj{{"kind", p_.type->kind},
           {"apiVersion", p_.type->api_version()},
           {"metadata", meta}};
  emit_raw(wrap_event("BOOKMARK", obj.dump()));
}

void watch_stream::flush() {
  if (!batch_.empty() && sink_ != nullptr) {
    sink_->send(std::make_shared<const std::string>(std::move(batch_)));
    batch_.clear();
  }
}

void watch_stream::end() {
  if (ended_)
    return;
  ended_ = true;
  if (subscribed_) {
    api_.store.unsubscribe(*p_.type, p_.ns, this);
    subscribed_ = false;
  }
  timers_->deadline.cancel();
  timers_->bookmark.cancel();
  timers_->drop.cancel();
  if (batching_)
    return; // start() flushes and finishes
  flush();
  if (sink_ != nullptr)
    sink_->finish();
}

} // namespace istio_csr::devcluster
