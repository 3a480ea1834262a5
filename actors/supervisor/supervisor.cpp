#include "actors/supervisor/supervisor.hpp"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>

#include <spdlog/spdlog.h>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/exit_reason.hpp"
#include "caf/response_promise.hpp"
#include "caf/system_messages.hpp"

#include "actors/supervisor/proxy.hpp"
#include "actors/supervisor/tree.hpp"
#include "errors/describe.hpp"
#include "introspection/protocol.hpp"
#include "logging/logging.hpp"
#include "metrics/istio_csr.hpp"

namespace istio_csr::actors {

namespace {

using restart_atom = caf::atom_constant<caf::atom("sv_restart")>;
using stop_timeout_atom = caf::atom_constant<caf::atom("sv_stoptmo")>;

/// Renders a duration like Go's time.Duration: "250ms", "1.5s", "2m0s".
std::string format_duration(caf::timespan x) {
  using namespace std::chrono;
  auto ns = x.count();
  if (ns == 0)
    return "0s";
  auto with_unit = [](double value, const char* unit) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.3f", value);
    std::string s = buf;
    while (s.back() == '0')
      s.pop_back();
    if (s.back() == '.')
      s.pop_back();
    return s + unit;
  };
  if (ns < 1'000)
    return std::to_string(ns) + "ns";
  if (ns < 1'000'000)
    return with_unit(ns / 1e3, "us");
  if (ns < 1'000'000'000)
    return with_unit(ns / 1e6, "ms");
  if (ns < 60'000'000'000)
    return with_unit(ns / 1e9, "s");
  auto minutes = ns / 60'000'000'000;
  return std::to_string(minutes) + "m"
         + with_unit((ns % 60'000'000'000) / 1e9, "s");
}

/// Renders an exit reason for logs ("normal" instead of "none").
std::string exit_reason_text(const caf::error& reason) {
  return reason ? errors::describe(reason) : std::string{"normal"};
}

/// Whether `reason` is a normal termination for the transient policy.
bool is_normal_exit(const caf::error& reason) {
  return !reason || reason == caf::exit_reason::normal
         || reason == caf::exit_reason::user_shutdown;
}

class supervisor_actor : public caf::event_based_actor {
 public:
  supervisor_actor(caf::actor_config& cfg, supervisor_options options,
                   std::vector<child_spec> specs,
                   std::vector<caf::actor> proxies)
    : caf::event_based_actor(cfg), opts_(std::move(options)),
      log_(logging::get("supervisor")) {
    for (size_t i = 0; i < specs.size(); ++i)
      add(std::move(specs[i]), std::move(proxies[i]));
  }

  const char* name() const override {
    return "supervisor";
  }

  caf::behavior make_behavior() override {
    set_down_handler([this](caf::down_msg& x) { on_down(x); });
    set_exit_handler([this](caf::exit_msg& x) {
      if (x.reason)
        begin_shutdown(std::move(x.reason));
    });
    for (auto& c : children_)
      start(*c);
    return {
      [this](add_child_atom, child_spec& spec) -> caf::result<caf::actor> {
        if (shutting_down_)
          return make_error(supervisor_errc::shutting_down);
        if (spec.name.empty() || !spec.spawn)
          return make_error(supervisor_errc::invalid_spec);
        if (find(spec.name) != nullptr)
          return make_error(supervisor_errc::duplicate_child, spec.name);
        auto proxy = spawn_proxy(system(), spec.name);
        auto& c = add(std::move(spec), proxy);
        logging::info(*log_, "adding child",
                      {{"supervisor", opts_.name}, {"child", c.spec.name}});
        start(c);
        return proxy;
      },
      [this](remove_child_atom, const std::string& name) -> caf::result<void> {
        auto* c = find(name);
        if (c == nullptr)
          return make_error(supervisor_errc::no_such_child, name);
        auto rp = make_response_promise();
        logging::info(*log_, "removing child",
                      {{"supervisor", opts_.name}, {"child", name}});
        c->removals.push_back(rp);
        stop_child(*c, nullptr);
        return rp;
      },
      [this](get_child_atom,
             const std::string& name) -> caf::result<caf::actor> {
        if (auto* c = find(name))
          return c->proxy;
        return make_error(supervisor_errc::no_such_child, name);
      },
      [this](kill_child_atom, const std::string& name,
             caf::error& reason) -> caf::result<void> {
        auto* c = find(name);
        if (c == nullptr || !c->incarnation || c->state != phase::running)
          return make_error(supervisor_errc::no_such_child, name);
        // Exactly as a crash: the down message brings the restart policy.
        detail::crash(this, c->incarnation, std::move(reason));
        return caf::unit;
      },
      [this](introspection::introspect_atom,
             caf::timespan budget) -> caf::result<introspection::actor_info> {
        introspection::actor_info info;
        info.name = opts_.name;
        info.supervisor = true;
        info.mailbox = introspection::mailbox_size(this);
        size_t running = 0;
        std::vector<introspection::tree_node> entries;
        auto now = clock().now();
        for (auto& c : children_) {
          prune(*c, now);
          introspection::tree_node e;
          e.name = c->spec.name;
          e.incarnation = c->started ? c->restarts + 1 : 0;
          e.restarts = c->restarts;
          e.recent_failures = c->failures.size();
          e.max_restarts = opts_.max_restarts;
          e.running = c->state == phase::running;
          if (e.running) {
            e.actor = c->incarnation;
            ++running;
          } else {
            e.state = c->state == phase::stopping ? "stopping"
                                                  : "waiting for restart";
          }
          entries.push_back(std::move(e));
        }
        info.state = std::to_string(running) + " of "
                     + std::to_string(children_.size()) + " children running";
        if (shutting_down_)
          info.state += ", shutting down";
        // A quarter of the budget is left for the answer to travel back
        // up the tree.
        auto rp = make_response_promise<introspection::actor_info>();
        detail::gather_children(
          this, std::move(entries), now + budget * 3 / 4,
          [rp, info](std::vector<introspection::tree_node> nodes) mutable {
            info.children = std::move(nodes);
            rp.deliver(std::move(info));
          });
        return rp;
      },
      [this](child_status_atom,
             const std::string& name) -> caf::result<child_status> {
        if (auto* c = find(name))
          return status(*c);
        return make_error(supervisor_errc::no_such_child, name);
      },
      [this](child_status_atom) {
        std::vector<child_status> result;
        for (auto& c : children_)
          result.push_back(status(*c));
        return result;
      },
      [this](restart_atom, const std::string& name, uint64_t token) {
        auto* c = find(name);
        if (c != nullptr && c->state == phase::waiting && c->timer == token
            && !shutting_down_)
          start(*c);
      },
      [this](stop_timeout_atom, const std::string& name, uint64_t token) {
        auto* c = find(name);
        if (c != nullptr && c->state == phase::stopping && c->timer == token
            && c->incarnation) {
          logging::warn(
            *log_, "child did not stop in time, killing it",
            {{"supervisor", opts_.name},
             {"child", name},
             {"timeout", format_duration(c->spec.shutdown_timeout)}});
          send_exit(c->incarnation, caf::exit_reason::kill);
        }
      },
    };
  }

  void on_exit() override {
    // Only reached with children left if the supervisor was killed or
    // failed: never leave orphans or stable handles that buffer forever.
    for (auto i = children_.rbegin(); i != children_.rend(); ++i) {
      auto& c = **i;
      if (c.incarnation)
        caf::anon_send_exit(c.incarnation, caf::exit_reason::kill);
      caf::anon_send_exit(c.proxy, caf::exit_reason::user_shutdown);
      for (auto& rp : c.removals)
        rp.deliver(
          make_error(supervisor_errc::shutting_down, "supervisor terminated"));
    }
    children_.clear();
    registry_.clear();
  }

 private:
  enum class phase {
    /// No incarnation; a restart may be scheduled (`timer`).
    waiting,
    /// `incarnation` runs.
    running,
    /// Being stopped for good; waiting for the incarnation's down message.
    stopping,
  };

  struct child {
    child_spec spec;
    caf::actor proxy;
    caf::actor incarnation;
    phase state = phase::waiting;
    bool started = false;
    size_t restarts = 0;
    /// Failure times within the intensity window, oldest first (at most
    /// `max_restarts` + 1). A list, not a deque: an empty deque already
    /// holds a 512-byte block, and a supervisor may have a child per
    /// namespace.
    std::list<caf::actor_clock::time_point> failures;
    /// Token of the pending restart or stop timeout; stale timers differ.
    uint64_t timer = 0;
    /// Run once the child is stopped and forgotten.
    std::vector<std::function<void()>> on_stopped;
    /// `remove_child` requests, answered once the child is forgotten.
    std::vector<caf::response_promise> removals;
  };

  child& add(child_spec spec, caf::actor proxy) {
    auto c = std::make_unique<child>();
    c->spec = std::move(spec);
    c->proxy = std::move(proxy);
    registry_.emplace(c->spec.name, c->proxy);
    children_.push_back(std::move(c));
    return *children_.back();
  }

  child* find(const std::string& name) {
    for (auto& c : children_)
      if (c->spec.name == name)
        return c.get();
    return nullptr;
  }

  child* find(const caf::actor_addr& incarnation) {
    for (auto& c : children_)
      if (c->incarnation && c->incarnation.address() == incarnation)
        return c.get();
    return nullptr;
  }

  child_status status(child& c) {
    prune(c, clock().now());
    return {c.spec.name, c.state == phase::running, c.restarts,
            c.failures.size()};
  }

  const backoff_policy& backoff(const child& c) const {
    return c.spec.backoff ? *c.spec.backoff : opts_.backoff;
  }

  void prune(child& c, caf::actor_clock::time_point now) {
    while (!c.failures.empty() && now - c.failures.front() > opts_.window)
      c.failures.pop_front();
  }

  void start(child& c) {
    if (c.started) {
      ++c.restarts;
      metrics::ours().actor_restarts(c.spec.name).inc();
    }
    c.started = true;
    child_context ctx{system(), c.spec.name, c.restarts,
                      caf::actor_cast<caf::actor>(this), registry_};
    caf::actor incarnation;
    std::string failure;
    try {
      incarnation = c.spec.spawn(ctx);
      if (!incarnation)
        failure = "spawn function returned an invalid handle";
    } catch (const std::exception& e) {
      failure = e.what();
    } catch (...) {
      failure = "unknown exception";
    }
    if (!incarnation) {
      logging::warn(*log_, "child failed to start",
                    {{"supervisor", opts_.name},
                     {"child", c.spec.name},
                     {"reason", failure}});
      c.state = phase::waiting;
      failed(c, make_error(supervisor_errc::start_failed, failure));
      return;
    }
    c.incarnation = incarnation;
    c.state = phase::running;
    monitor(incarnation);
    send(c.proxy, detail::proxy_attach{std::move(incarnation)});
    logging::debug(*log_, "child started",
                   {{"supervisor", opts_.name},
                    {"child", c.spec.name},
                    {"restarts", std::to_string(c.restarts)}});
  }

  void on_down(caf::down_msg& x) {
    auto* c = find(x.source);
    if (c == nullptr)
      return;
    c->incarnation = nullptr;
    if (c->state == phase::stopping) {
      logging::debug(*log_, "child stopped",
                     {{"supervisor", opts_.name},
                      {"child", c->spec.name},
                      {"reason", exit_reason_text(x.reason)}});
      finalize(*c);
      return;
    }
    c->state = phase::waiting;
    if (shutting_down_) {
      // Terminated on its own before its turn to be stopped.
      logging::info(*log_, "child exited during shutdown",
                    {{"supervisor", opts_.name},
                     {"child", c->spec.name},
                     {"reason", exit_reason_text(x.reason)}});
      return;
    }
    auto policy = c->spec.restart;
    if (policy == restart_policy::temporary
        || (policy == restart_policy::transient && is_normal_exit(x.reason))) {
      logging::info(*log_, "child exited, not restarting it",
                    {{"supervisor", opts_.name},
                     {"child", c->spec.name},
                     {"reason", exit_reason_text(x.reason)},
                     {"policy", to_string(policy)}});
      stop_child(*c, nullptr);
      return;
    }
    failed(*c, x.reason);
  }

  /// Counts a failure of `c` (in state waiting) and restarts it after its
  /// backoff, or gives up.
  void failed(child& c, const caf::error& reason) {
    auto now = clock().now();
    prune(c, now);
    c.failures.push_back(now);
    auto attempt = c.failures.size();
    if (attempt > opts_.max_restarts) {
      give_up(c, reason);
      return;
    }
    auto delay = backoff(c).delay(attempt);
    logging::warn(*log_, "restarting child",
                  {{"supervisor", opts_.name},
                   {"child", c.spec.name},
                   {"reason", exit_reason_text(reason)},
                   {"attempt", std::to_string(attempt)},
                   {"backoff", format_duration(delay)}});
    if (delay <= caf::timespan::zero()) {
      start(c);
      return;
    }
    c.timer = ++next_token_;
    delayed_send(this, delay, restart_atom::value, c.spec.name, c.timer);
  }

  void give_up(child& c, const caf::error& reason) {
    give_up_report report;
    report.supervisor = opts_.name;
    report.child = c.spec.name;
    report.failures = c.failures.size();
    report.window = opts_.window;
    report.reason = exit_reason_text(reason);
    logging::error(*log_, "supervisor giving up: child failed too often",
                   {{"supervisor", report.supervisor},
                    {"child", report.child},
                    {"failures", std::to_string(report.failures)},
                    {"max_restarts", std::to_string(opts_.max_restarts)},
                    {"window", format_duration(report.window)},
                    {"reason", report.reason}});
    gave_up_ = std::move(report);
    begin_shutdown(make_error(supervisor_errc::gave_up, c.spec.name));
  }

  /// Stops `c` for good and runs `then` once it is forgotten.
  void stop_child(child& c, std::function<void()> then) {
    if (then)
      c.on_stopped.push_back(std::move(then));
    if (c.state == phase::stopping)
      return;
    c.state = phase::stopping;
    if (!c.incarnation) {
      finalize(c);
      return;
    }
    send_exit(c.incarnation, caf::exit_reason::user_shutdown);
    c.timer = ++next_token_;
    delayed_send(this, c.spec.shutdown_timeout, stop_timeout_atom::value,
                 c.spec.name, c.timer);
  }

  /// Forgets `c`: stops its stable handle and runs its continuations.
  void finalize(child& c) {
    send_exit(c.proxy, caf::exit_reason::user_shutdown);
    registry_.erase(c.spec.name);
    auto continuations = std::move(c.on_stopped);
    for (auto& rp : c.removals)
      rp.deliver(caf::unit);
    for (auto i = children_.begin(); i != children_.end(); ++i) {
      if (i->get() == &c) {
        children_.erase(i);
        break;
      }
    }
    for (auto& f : continuations)
      f();
  }

  void begin_shutdown(caf::error reason) {
    if (shutting_down_)
      return;
    shutting_down_ = true;
    exit_reason_ = std::move(reason);
    logging::info(
      *log_, "supervisor stopping",
      {{"supervisor", opts_.name}, {"reason", exit_reason_text(exit_reason_)}});
    stop_next();
  }

  /// Stops the last child; continues with the next once it is stopped.
  void stop_next() {
    // Children without an incarnation stop at once: loop instead of
    // recursing through `finalize`'s continuation.
    while (!children_.empty()) {
      auto& c = *children_.back();
      if (c.incarnation) {
        stop_child(c, [this] { stop_next(); });
        return;
      }
      stop_child(c, nullptr); // finalizes at once
    }
    finish_shutdown();
  }

  void finish_shutdown() {
    if (finished_)
      return;
    finished_ = true;
    if (gave_up_) {
      if (opts_.on_give_up)
        opts_.on_give_up(*gave_up_);
      quit(std::move(exit_reason_));
      return;
    }
    logging::info(*log_, "supervisor stopped", {{"supervisor", opts_.name}});
    quit(std::move(exit_reason_));
  }

  supervisor_options opts_;
  std::shared_ptr<spdlog::logger> log_;
  /// In start order.
  std::vector<std::unique_ptr<child>> children_;
  /// Name to stable handle, for `child_context::sibling`.
  child_context::registry registry_;
  uint64_t next_token_ = 0;
  bool shutting_down_ = false;
  bool finished_ = false;
  caf::error exit_reason_;
  std::optional<give_up_report> gave_up_;
};

caf::error validate(const std::vector<child_spec>& children) {
  std::unordered_map<std::string, bool> seen;
  for (auto& spec : children) {
    if (spec.name.empty() || !spec.spawn)
      return make_error(supervisor_errc::invalid_spec, spec.name);
    if (!seen.emplace(spec.name, true).second)
      return make_error(supervisor_errc::duplicate_child, spec.name);
  }
  return caf::none;
}

} // namespace

void exit_process(const give_up_report& report) {
  logging::error(*logging::get("supervisor"), "exiting: supervisor gave up",
                 {{"supervisor", report.supervisor},
                  {"child", report.child},
                  {"exit_code", std::to_string(give_up_exit_code)}});
  spdlog::apply_all(
    [](const std::shared_ptr<spdlog::logger>& l) { l->flush(); });
  std::fflush(stderr);
  std::fflush(stdout);
  std::_Exit(give_up_exit_code);
}

void escalate(const give_up_report&) {
  // nop: the supervisor terminates with supervisor_errc::gave_up
}

caf::actor supervisor_handle::child(const std::string& name) const {
  auto i = children.find(name);
  return i != children.end() ? i->second : caf::actor{};
}

caf::expected<supervisor_handle>
spawn_supervisor(caf::actor_system& sys, supervisor_options options,
                 std::vector<child_spec> children) {
  if (auto err = validate(children))
    return err;
  supervisor_handle result;
  std::vector<caf::actor> proxies;
  proxies.reserve(children.size());
  for (auto& spec : children) {
    auto proxy = spawn_proxy(sys, spec.name);
    result.children.emplace(spec.name, proxy);
    proxies.push_back(std::move(proxy));
  }
  result.supervisor = sys.spawn<supervisor_actor>(
    std::move(options), std::move(children), std::move(proxies));
  return result;
}

} // namespace istio_csr::actors
