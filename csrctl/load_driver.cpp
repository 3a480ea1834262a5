#include "csrctl/load_driver.hpp"

#include <algorithm>
#include <queue>
#include <random>
#include <vector>

#include "csrctl/agent_retry.hpp"

namespace istio_csr::csrctl {

namespace {

using clock = async_calls::clock;
using time_point = clock::time_point;

constexpr int cancelled_code = 1; // grpc::StatusCode::CANCELLED

/// How long a wait may last before `stop` is looked at again.
constexpr auto stop_poll = std::chrono::milliseconds{100};

std::string bounded(const std::string& text) {
  return text.size() <= max_message_size ? text
                                         : text.substr(0, max_message_size);
}

class driver {
 public:
  driver(async_calls& calls, const load_plan& plan, const load_verifier& verify,
         const load_progress_handler& progress)
    : calls_(calls), plan_(plan), verify_(verify), progress_(progress),
      slots_(calls.slots()), rng_(plan.seed), backoff_(agent_retry::backoff()) {
  }

  load_report run(const std::atomic<bool>& stop) {
    t0_ = calls_.now();
    end_ = plan_.duration ? t0_ + *plan_.duration : time_point::max();
    auto next_progress = t0_ + plan_.progress_interval;
    next_due_ = t0_;
    if (plan_.count && *plan_.count == 0)
      new_calls_ = false;
    if (plan_.rate > 0) {
      for (size_t i = slots_.size(); i > 0; --i)
        idle_.push_back(i - 1);
    } else {
      for (size_t i = 0; i < slots_.size(); ++i)
        begin_or_idle(i, t0_);
    }
    for (;;) {
      auto now = calls_.now();
      if (stop.load() && !report_.interrupted)
        interrupt();
      if (now >= end_ && !ended_)
        end_of_duration();
      if (plan_.rate > 0)
        start_due(now);
      while (!retry_at_.empty() && retry_at_.top().first <= now) {
        auto slot = retry_at_.top().second;
        retry_at_.pop();
        attempt(slot);
      }
      if (progress_ && now >= next_progress) {
        progress_(snapshot(now));
        while (next_progress <= now)
          next_progress += plan_.progress_interval;
      }
      if (!new_calls_ && in_flight_ == 0 && retry_at_.empty())
        break;
      auto deadline = now + stop_poll;
      if (!ended_)
        deadline = std::min(deadline, end_);
      if (plan_.rate > 0 && new_calls_)
        deadline = std::min(deadline, next_due_);
      if (!retry_at_.empty())
        deadline = std::min(deadline, retry_at_.top().first);
      if (progress_)
        deadline = std::min(deadline, next_progress);
      if (auto slot = calls_.next(deadline))
        finished(*slot);
    }
    report_.elapsed = calls_.now() - t0_;
    return std::move(report_);
  }

 private:
  struct slot_state {
    size_t request = 0;
    size_t connection = 0;
    int attempts = 0;
    time_point started;
  };

  using timer = std::pair<time_point, size_t>;

  load_progress snapshot(time_point now) const {
    load_progress p;
    p.elapsed = now - t0_;
    p.total = report_.total;
    p.ok = report_.ok;
    p.retries = report_.retries;
    p.in_flight = in_flight_ + retry_at_.size();
    return p;
  }

  /// Starts the next call in `slot` if calls may still start; else leaves
  /// the slot idle.
  void begin_or_idle(size_t slot, time_point due) {
    if (!new_calls_ || calls_.now() >= end_
        || (plan_.count && started_ >= *plan_.count)) {
      new_calls_ = false;
      idle_.push_back(slot);
      return;
    }
    auto k = started_++;
    auto& s = slots_[slot];
    s.request = static_cast<size_t>(k % plan_.requests);
    s.connection = plan_.rate > 0 ? static_cast<size_t>(k % plan_.connections)
                                  : slot % plan_.connections;
    s.attempts = 0;
    s.started = due;
    attempt(slot);
    if (plan_.count && started_ >= *plan_.count)
      new_calls_ = false;
  }

  void attempt(size_t slot) {
    auto& s = slots_[slot];
    if (++s.attempts > 1)
      ++report_.retries;
    calls_.start(slot, s.request, s.connection, plan_.timeout);
    ++in_flight_;
  }

  /// Open loop: every start due by `now`, in a free slot or skipped.
  void start_due(time_point now) {
    while (new_calls_ && next_due_ <= now) {
      if (plan_.count && started_ + report_.skipped >= *plan_.count) {
        new_calls_ = false;
        break;
      }
      ++due_;
      if (idle_.empty()) {
        ++report_.skipped;
      } else {
        auto slot = idle_.back();
        idle_.pop_back();
        begin_or_idle(slot, next_due_);
      }
      if (plan_.count && started_ + report_.skipped >= *plan_.count)
        new_calls_ = false;
      // From the start, not from the last due time: no drift.
      next_due_ = t0_
                  + std::chrono::duration_cast<clock::duration>(
                    std::chrono::duration<double>(static_cast<double>(due_)
                                                  / plan_.rate));
    }
  }

  void finished(size_t slot) {
    --in_flight_;
    const auto& res = calls_.result(slot);
    auto& s = slots_[slot];
    if (report_.interrupted && res.code == cancelled_code) {
      ++report_.abandoned;
      idle_.push_back(slot);
      return;
    }
    if (res.ok()) {
      if (verify_) {
        if (auto why = verify_(s.request, res); !why.empty()) {
          if (report_.verify_failed++ == 0)
            report_.verify_message = bounded(why);
          end_call(slot);
          return;
        }
      }
      ++report_.ok;
      report_.latency.record(calls_.now() - s.started);
      end_call(slot);
      return;
    }
    if (plan_.retry && new_attempts_ && agent_retry::retried_code(res.code)
        && s.attempts < agent_retry::max_attempts) {
      auto wait = backoff_.delay(static_cast<size_t>(s.attempts), rng_);
      retry_at_.emplace(calls_.now() + wait, slot);
      return;
    }
    failed(slot);
  }

  /// Counts the call in `slot` by the code of its last attempt.
  void failed(size_t slot) {
    const auto& res = calls_.result(slot);
    if (report_.errors[res.code]++ == 0)
      report_.error_messages[res.code] = bounded(res.message);
    end_call(slot);
  }

  /// The call in `slot` ended: a closed-loop caller starts its next one.
  void end_call(size_t slot) {
    ++report_.total;
    if (plan_.rate > 0)
      idle_.push_back(slot);
    else
      begin_or_idle(slot, calls_.now());
  }

  /// No new call from now on; the calls started run to their end, retries
  /// included, as istio-agent's would.
  void end_of_duration() {
    ended_ = true;
    new_calls_ = false;
  }

  void interrupt() {
    report_.interrupted = true;
    new_calls_ = false;
    new_attempts_ = false;
    report_.abandoned += retry_at_.size();
    while (!retry_at_.empty()) {
      idle_.push_back(retry_at_.top().second);
      retry_at_.pop();
    }
    calls_.cancel_all();
  }

  async_calls& calls_;
  const load_plan& plan_;
  const load_verifier& verify_;
  const load_progress_handler& progress_;
  std::vector<slot_state> slots_;
  std::vector<size_t> idle_;
  std::priority_queue<timer, std::vector<timer>, std::greater<>> retry_at_;
  std::mt19937_64 rng_;
  retry::backoff backoff_;
  load_report report_;
  time_point t0_;
  time_point end_;
  time_point next_due_;
  uint64_t due_ = 0;     ///< open loop: starts due so far
  uint64_t started_ = 0; ///< calls started
  size_t in_flight_ = 0; ///< attempts in flight
  bool new_calls_ = true;
  bool new_attempts_ = true;
  bool ended_ = false; ///< the duration is over
};

} // namespace

load_report drive_load(async_calls& calls, const load_plan& plan,
                       const std::atomic<bool>& stop,
                       const load_verifier& verify,
                       const load_progress_handler& progress) {
  return driver{calls, plan, verify, progress}.run(stop);
}

} // namespace istio_csr::csrctl
