#include "actors/supervisor/proxy.hpp"

#include <cstdint>
#include <map>
#include <utility>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/mailbox_element.hpp"
#include "caf/response_promise.hpp"
#include "caf/sec.hpp"
#include "caf/system_messages.hpp"

#include "actors/supervisor/errors.hpp"
#include "logging/logging.hpp"

namespace istio_csr::actors::detail {
namespace {

/// Self-sent after the proxy learned that incarnation `epoch` is dead: every
/// bounce of a request forwarded to it is queued before this message, so
/// what is still in flight for it afterwards was started and is lost.
struct proxy_sweep {
  uint64_t epoch;
};

} // namespace
} // namespace istio_csr::actors::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(istio_csr::actors::detail::proxy_sweep)

namespace istio_csr::actors {
namespace detail {
namespace {

class proxy_actor : public caf::event_based_actor {
 public:
  proxy_actor(caf::actor_config& cfg, std::string child_name)
    : caf::event_based_actor(cfg), child_name_(std::move(child_name)),
      log_(logging::get("supervisor")) {
    // nop
  }

  const char* name() const override {
    return "supervised_proxy";
  }

  caf::behavior make_behavior() override {
    set_default_handler(
      [this](caf::scheduled_actor*,
             caf::message_view& x) -> caf::result<caf::message> {
        accept(x);
        return caf::delegated<caf::message>{};
      });
    set_down_handler([this](caf::down_msg& x) { on_down(x); });
    set_exit_handler([this](caf::exit_msg& x) {
      // Like CAF's default: a normal exit message is no request to stop.
      if (x.reason)
        stop(std::move(x.reason));
    });
    return {
      [this](proxy_attach& x) { attach_target(std::move(x.target)); },
      [this](proxy_sweep x) { sweep(x.epoch); },
    };
  }

 private:
  /// A message that arrived at the proxy, waiting or in flight.
  struct pending {
    /// Arrival order; the buffer is sorted by it.
    uint64_t seq = 0;
    bool is_request = false;
    caf::message_priority priority = caf::message_priority::normal;
    /// Requests: where the response goes.
    caf::response_promise promise;
    /// Asynchronous messages: the original sender.
    caf::strong_actor_ptr sender;
    caf::message content;
  };

  /// A request forwarded to incarnation `epoch`, not answered yet.
  struct in_flight {
    pending msg;
    uint64_t epoch = 0;
    /// CAF bounced it (`request_receiver_down` without sender) while the
    /// incarnation was terminating but its down message had not arrived.
    bool bounced = false;
  };

  void accept(caf::message_view& x) {
    auto* element = current_mailbox_element();
    pending msg;
    msg.seq = next_seq_++;
    msg.priority = element->mid.is_urgent_message()
                     ? caf::message_priority::high
                     : caf::message_priority::normal;
    msg.content = x.move_content_to_message();
    if (element->mid.is_request()) {
      msg.is_request = true;
      msg.promise = make_response_promise();
    } else {
      msg.sender = element->sender;
    }
    if (alive_)
      forward(std::move(msg));
    else
      buffer_.emplace(msg.seq, std::move(msg));
  }

  void forward(pending msg) {
    if (!msg.is_request) {
      target_->enqueue(
        caf::make_mailbox_element(std::move(msg.sender),
                                  caf::make_message_id(msg.priority), {},
                                  std::move(msg.content)),
        context());
      return;
    }
    auto seq = msg.seq;
    auto mid = new_request_id(msg.priority);
    auto content = msg.content; // copy-on-write: kept for a re-delivery
    in_flight_.emplace(seq, in_flight{std::move(msg), epoch_, false});
    // CAF 0.17 behaviors have no catch-all. A handler for `error` alone
    // gets error responses as they are; any other response fails to match
    // and CAF calls the handler again with `sec::unexpected_response` whose
    // context is the original response (moved out of the mailbox element).
    add_multiplexed_response_handler(
      mid.response_id(), caf::behavior{[this, seq](caf::error& err) {
        auto& content = current_mailbox_element()->content();
        if (err == caf::sec::unexpected_response
            && !content.match_elements<caf::error>())
          on_response(seq, std::move(err.context()), false);
        else
          on_response(seq, caf::make_message(err),
                      current_sender() == nullptr
                        && err == caf::sec::request_receiver_down);
      }});
    target_->enqueue(
      caf::make_mailbox_element(ctrl(), mid, {}, std::move(content)),
      context());
  }

  void flush() {
    while (alive_ && !buffer_.empty()) {
      auto node = buffer_.extract(buffer_.begin());
      forward(std::move(node.mapped()));
    }
  }

  bool known_dead(uint64_t epoch) const {
    return epoch < epoch_ || !alive_;
  }

  void rebuffer(std::map<uint64_t, in_flight>::iterator i) {
    auto msg = std::move(i->second.msg);
    in_flight_.erase(i);
    buffer_.emplace(msg.seq, std::move(msg));
  }

  /// `bounced`: CAF returned the request because its receiver was gone
  /// before processing it (`request_receiver_down` without sender).
  void on_response(uint64_t seq, caf::message reply, bool bounced) {
    auto i = in_flight_.find(seq);
    if (i == in_flight_.end())
      return; // already failed by a sweep
    if (bounced) {
      if (known_dead(i->second.epoch)) {
        rebuffer(i);
        flush();
        return;
      }
      if (target_closed()) {
        // The incarnation is dying: its down message (or the supervisor's
        // attach of the next one) is on its way and re-buffers this.
        i->second.bounced = true;
        return;
      }
      // The incarnation is alive, so it did not bounce this: an actor it
      // delegated the request to is gone. That is the answer.
      reply
        = caf::make_message(caf::make_error(caf::sec::request_receiver_down));
    }
    auto promise = std::move(i->second.msg.promise);
    in_flight_.erase(i);
    promise.deliver(std::move(reply));
  }

  /// Whether the current incarnation's mailbox is closed, i.e. it is
  /// terminating (CAF closes the mailbox before bouncing what is left in
  /// it, and before sending down messages).
  bool target_closed() const {
    auto* ptr = caf::actor_cast<caf::abstract_actor*>(target_);
    if (auto* sa = dynamic_cast<caf::scheduled_actor*>(ptr))
      return sa->mailbox().closed();
    return false; // not a scheduled actor: treat a bounce as an answer
  }

  /// The incarnation of `epoch_` is dead.
  void lost_target() {
    alive_ = false;
    target_ = nullptr;
    for (auto i = in_flight_.begin(); i != in_flight_.end();) {
      auto next = std::next(i);
      if (i->second.epoch == epoch_ && i->second.bounced)
        rebuffer(i);
      i = next;
    }
    send(this, proxy_sweep{epoch_});
  }

  void attach_target(caf::actor target) {
    if (alive_) {
      // The supervisor's down message overtook ours.
      demonitor(target_);
      lost_target();
    }
    ++epoch_;
    target_ = std::move(target);
    alive_ = static_cast<bool>(target_);
    if (alive_) {
      monitor(target_);
      flush();
    }
  }

  void on_down(caf::down_msg& x) {
    if (alive_ && x.source == target_.address())
      lost_target();
  }

  void sweep(uint64_t epoch) {
    for (auto i = in_flight_.begin(); i != in_flight_.end();) {
      if (i->second.epoch <= epoch) {
        auto promise = std::move(i->second.msg.promise);
        i = in_flight_.erase(i);
        promise.deliver(make_error(
          supervisor_errc::child_restarted,
          "child '" + child_name_ + "' terminated while handling the request"));
      } else {
        ++i;
      }
    }
  }

  void stop(caf::error reason) {
    size_t failed = 0;
    size_t dropped = 0;
    auto err = make_error(supervisor_errc::child_stopped,
                          "child '" + child_name_ + "' was stopped");
    for (auto& [seq, entry] : in_flight_) {
      ++failed;
      entry.msg.promise.deliver(err);
    }
    in_flight_.clear();
    for (auto& [seq, msg] : buffer_) {
      if (msg.is_request) {
        ++failed;
        msg.promise.deliver(err);
      } else {
        ++dropped;
      }
    }
    buffer_.clear();
    if (failed > 0 || dropped > 0)
      logging::debug(*log_, "stable handle stopped with pending messages",
                     {{"child", child_name_},
                      {"failed_requests", std::to_string(failed)},
                      {"dropped_messages", std::to_string(dropped)}});
    quit(std::move(reason));
  }

  std::string child_name_;
  std::shared_ptr<spdlog::logger> log_;
  /// The current incarnation, valid while `alive_`.
  caf::actor target_;
  /// Number of incarnations attached so far.
  uint64_t epoch_ = 0;
  bool alive_ = false;
  uint64_t next_seq_ = 0;
  /// Messages waiting for an incarnation, by arrival order.
  std::map<uint64_t, pending> buffer_;
  /// Forwarded requests without a response, by arrival order.
  std::map<uint64_t, in_flight> in_flight_;
};

} // namespace
} // namespace detail

caf::actor spawn_proxy(caf::actor_system& sys, std::string child_name) {
  return sys.spawn<detail::proxy_actor>(std::move(child_name));
}

} // namespace istio_csr::actors
