// The load driver of csrctl load on a fake transport in virtual time: the
// count and the duration end a run, callers and identities are spread
// round-robin, istio-agent's retry policy, open-loop pacing, --verify and
// an interrupt. Real calls against the agent: tests/e2e/load_test.cpp.

#define CAF_SUITE csrctl.load_driver

#include "caf/test/unit_test.hpp"

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>

#include "csrctl/load_driver.hpp"

using namespace std::chrono_literals;
using namespace istio_csr::csrctl;

namespace {

using clock = async_calls::clock;
using time_point = clock::time_point;

constexpr int unavailable = 14;
constexpr int unauthenticated = 16;
constexpr int resource_exhausted = 8;

/// One attempt the driver started.
struct started {
  size_t slot;
  size_t request;
  size_t connection;
  time_point at;
};

/// How the fake answers an attempt: after `latency`, with `code`.
struct answer {
  std::chrono::nanoseconds latency = 10ms;
  int code = 0;
  std::string message;
};

/// `async_calls` in virtual time: each attempt is answered as `answer_of`
/// says (given the attempt and how many came before it); waiting moves the
/// clock to the next answer or to the deadline.
class fake_calls : public async_calls {
 public:
  using answer_fn = std::function<answer(const started&, size_t nth)>;

  fake_calls(size_t slots, answer_fn answer_of)
    : answer_of_(std::move(answer_of)), busy_(slots), results_(slots) {}

  std::vector<started> starts;
  size_t max_in_flight = 0;

  size_t slots() const noexcept override {
    return busy_.size();
  }

  time_point now() const override {
    return now_;
  }

  time_point t0() const {
    return time_point{} + 1h;
  }

  size_t connect(time_point) override {
    return 0;
  }

  void start(size_t slot, size_t request, size_t connection,
             std::chrono::milliseconds timeout) override {
    CAF_REQUIRE(slot < busy_.size());
    CAF_REQUIRE(!busy_[slot]);
    started s{slot, request, connection, now_};
    starts.push_back(s);
    auto a = answer_of_(s, starts.size() - 1);
    if (a.latency > timeout)
      a = answer{timeout, 4, "deadline exceeded"};
    pending_.push_back({now_ + a.latency, seq_++, slot, std::move(a)});
    busy_[slot] = true;
    max_in_flight = std::max(max_in_flight, pending_.size());
  }

  std::optional<size_t> next(time_point deadline) override {
    auto first = std::min_element(
      pending_.begin(), pending_.end(), [](const auto& x, const auto& y) {
        return std::tie(x.at, x.seq) < std::tie(y.at, y.seq);
      });
    if (first == pending_.end() || first->at > deadline) {
      now_ = std::max(now_, deadline);
      return std::nullopt;
    }
    now_ = std::max(now_, first->at);
    auto slot = first->slot;
    auto& res = results_[slot];
    res.code = first->what.code;
    res.message = first->what.message;
    res.cert_chain = res.ok() ? std::vector<std::string>{"leaf", "root"}
                              : std::vector<std::string>{};
    busy_[slot] = false;
    pending_.erase(first);
    return slot;
  }

  const ca_result& result(size_t slot) const override {
    return results_[slot];
  }

  void cancel_all() override {
    for (auto& p : pending_) {
      p.at = now_;
      p.what = answer{0ns, 1, "cancelled"};
    }
  }

 private:
  struct pending {
    time_point at;
    uint64_t seq;
    size_t slot;
    answer what;
  };

  answer_fn answer_of_;
  std::vector<bool> busy_;
  std::vector<ca_result> results_;
  std::vector<pending> pending_;
  time_point now_ = t0();
  uint64_t seq_ = 0;
};

load_report drive(fake_calls& calls, const load_plan& plan,
                  const load_verifier& verify = {},
                  const load_progress_handler& progress = {}) {
  std::atomic<bool> stop{false};
  return drive_load(calls, plan, stop, verify, progress);
}

answer ok_after(std::chrono::nanoseconds latency) {
  return answer{latency, 0, {}};
}

uint64_t errors_total(const load_report& r) {
  uint64_t n = 0;
  for (const auto& [code, count] : r.errors)
    n += count;
  return n;
}

} // namespace

CAF_TEST(count gives exactly that many calls spread round robin) {
  fake_calls calls{3, [](const started&, size_t) { return ok_after(10ms); }};
  load_plan plan;
  plan.connections = 2;
  plan.requests = 4;
  plan.count = 10;
  auto r = drive(calls, plan);
  CAF_CHECK_EQUAL(r.total, 10u);
  CAF_CHECK_EQUAL(r.ok, 10u);
  CAF_CHECK(r.errors.empty());
  CAF_CHECK_EQUAL(r.retries, 0u);
  CAF_CHECK_EQUAL(calls.starts.size(), 10u);
  std::map<size_t, int> per_request;
  for (const auto& s : calls.starts) {
    ++per_request[s.request];
    // A caller keeps its connection.
    CAF_CHECK_EQUAL(s.connection, s.slot % 2);
  }
  CAF_CHECK_EQUAL(per_request,
                  (std::map<size_t, int>{{0, 3}, {1, 3}, {2, 2}, {3, 2}}));
  CAF_CHECK_EQUAL(calls.max_in_flight, 3u);
  // Four rounds of three callers.
  CAF_CHECK_EQUAL(r.elapsed, std::chrono::nanoseconds{40ms});
  CAF_CHECK_EQUAL(r.latency.count(), 10u);
  CAF_CHECK_EQUAL(r.latency.percentile(99), std::chrono::microseconds{10ms});
}

CAF_TEST(retries follow the policy and count in the latency) {
  // Two UNAVAILABLE answers, then success.
  fake_calls calls{
    1, [](const started&, size_t nth) {
      return nth < 2 ? answer{5ms, unavailable, "down"} : ok_after(5ms);
    }};
  load_plan plan;
  plan.count = 1;
  plan.seed = 42;
  auto r = drive(calls, plan);
  CAF_CHECK_EQUAL(r.ok, 1u);
  CAF_CHECK_EQUAL(r.total, 1u);
  CAF_CHECK_EQUAL(r.retries, 2u);
  CAF_REQUIRE_EQUAL(calls.starts.size(), 3u);
  auto wait1 = calls.starts[1].at - calls.starts[0].at - 5ms;
  auto wait2 = calls.starts[2].at - calls.starts[1].at - 5ms;
  CAF_CHECK(wait1 >= 90ms && wait1 <= 110ms);
  CAF_CHECK(wait2 >= 180ms && wait2 <= 220ms);
  // The same request on the same connection.
  for (const auto& s : calls.starts) {
    CAF_CHECK_EQUAL(s.request, 0u);
    CAF_CHECK_EQUAL(s.connection, 0u);
  }
  auto whole = calls.starts[2].at + 5ms - calls.starts[0].at;
  CAF_CHECK_EQUAL(r.latency.max(),
                  std::chrono::duration_cast<std::chrono::microseconds>(whole));
}

CAF_TEST(five attempts at most) {
  fake_calls calls{1, [](const started&, size_t) {
                     return answer{1ms, resource_exhausted, "busy"};
                   }};
  load_plan plan;
  plan.count = 2;
  auto r = drive(calls, plan);
  CAF_CHECK_EQUAL(calls.starts.size(), 10u);
  CAF_CHECK_EQUAL(r.retries, 8u);
  CAF_CHECK_EQUAL(r.total, 2u);
  CAF_CHECK_EQUAL(r.ok, 0u);
  CAF_CHECK_EQUAL(r.errors, (std::map<int, uint64_t>{{resource_exhausted, 2}}));
  CAF_CHECK_EQUAL(r.error_messages.at(resource_exhausted), "busy");
  CAF_CHECK_EQUAL(r.latency.count(), 0u);
}

CAF_TEST(no retry when off or for codes istio agent does not retry) {
  fake_calls off{2, [](const started&, size_t) {
                   return answer{1ms, unavailable, "down"};
                 }};
  load_plan plan;
  plan.count = 4;
  plan.retry = false;
  auto r = drive(off, plan);
  CAF_CHECK_EQUAL(off.starts.size(), 4u);
  CAF_CHECK_EQUAL(r.retries, 0u);
  CAF_CHECK_EQUAL(r.errors, (std::map<int, uint64_t>{{unavailable, 4}}));
  fake_calls refused{2, [](const started&, size_t nth) {
                       return answer{1ms, unauthenticated,
                                     nth == 0 ? "request authenticate failure"
                                              : "later"};
                     }};
  plan.retry = true;
  auto r2 = drive(refused, plan);
  CAF_CHECK_EQUAL(refused.starts.size(), 4u);
  CAF_CHECK_EQUAL(r2.retries, 0u);
  CAF_CHECK_EQUAL(r2.errors, (std::map<int, uint64_t>{{unauthenticated, 4}}));
  // The first message of each code.
  CAF_CHECK_EQUAL(r2.error_messages.at(unauthenticated),
                  "request authenticate failure");
}

CAF_TEST(a duration run starts no call after its end) {
  fake_calls calls{1, [](const started&, size_t) { return ok_after(30ms); }};
  load_plan plan;
  plan.duration = 1s;
  auto r = drive(calls, plan);
  // Calls start at 0, 30, ..., 990 ms; the last ends at 1020 ms.
  CAF_CHECK_EQUAL(r.total, 34u);
  CAF_CHECK_EQUAL(r.ok, 34u);
  for (const auto& s : calls.starts)
    CAF_CHECK(s.at < calls.t0() + 1s);
  CAF_CHECK_EQUAL(r.elapsed, std::chrono::nanoseconds{1020ms});
  CAF_CHECK(!r.interrupted);
}

CAF_TEST(calls started before the end finish their retries) {
  fake_calls calls{2, [](const started&, size_t) {
                     return answer{10ms, unavailable, "down"};
                   }};
  load_plan plan;
  plan.duration = 1s;
  auto r = drive(calls, plan);
  CAF_CHECK_GREATER(r.total, 0u);
  CAF_CHECK_EQUAL(r.ok, 0u);
  CAF_CHECK_EQUAL(errors_total(r), r.total);
  CAF_CHECK_EQUAL(r.abandoned, 0u);
  // Every call made istio-agent's five attempts, also those that were
  // still retrying at the end; no call started after it.
  CAF_CHECK_EQUAL(r.retries, 4 * r.total);
  CAF_CHECK_EQUAL(calls.starts.size(), r.total + r.retries);
  size_t after_end = 0;
  for (const auto& s : calls.starts)
    after_end += s.at >= calls.t0() + 1s ? 1 : 0;
  CAF_CHECK_GREATER(after_end, 0u);
  CAF_CHECK_LESS(r.elapsed, std::chrono::nanoseconds{3s});
}

CAF_TEST(a rate run starts calls on schedule) {
  fake_calls calls{10, [](const started&, size_t) { return ok_after(5ms); }};
  load_plan plan;
  plan.rate = 100;
  plan.duration = 1s;
  plan.connections = 3;
  plan.requests = 2;
  auto r = drive(calls, plan);
  CAF_CHECK_EQUAL(r.total, 100u);
  CAF_CHECK_EQUAL(r.ok, 100u);
  CAF_CHECK_EQUAL(r.skipped, 0u);
  CAF_REQUIRE_EQUAL(calls.starts.size(), 100u);
  for (size_t k = 0; k < calls.starts.size(); ++k) {
    auto due = calls.t0() + k * 10ms;
    auto off = calls.starts[k].at - due;
    CAF_CHECK(off >= 0ns && off < 1us);
    // Calls, not callers, are spread round-robin.
    CAF_CHECK_EQUAL(calls.starts[k].connection, k % 3);
    CAF_CHECK_EQUAL(calls.starts[k].request, k % 2);
  }
  CAF_CHECK_LESS_OR_EQUAL(r.latency.max(), std::chrono::microseconds{5ms});
}

CAF_TEST(a rate run skips starts while every slot is busy) {
  fake_calls calls{2, [](const started&, size_t) { return ok_after(50ms); }};
  load_plan plan;
  plan.rate = 100;
  plan.count = 50;
  auto r = drive(calls, plan);
  CAF_CHECK_LESS_OR_EQUAL(calls.max_in_flight, 2u);
  CAF_CHECK_GREATER(r.skipped, 0u);
  CAF_CHECK_EQUAL(r.total + r.skipped, 50u);
  CAF_CHECK_EQUAL(r.total, r.ok);
  // Starts stay on the schedule: a multiple of 10 ms from the first.
  for (const auto& s : calls.starts) {
    auto since = std::chrono::duration_cast<std::chrono::microseconds>(
      s.at - calls.t0());
    CAF_CHECK_EQUAL(since.count() % 10000, 0);
  }
}

CAF_TEST(verify failures are counted apart) {
  fake_calls calls{1, [](const started&, size_t) { return ok_after(1ms); }};
  load_plan plan;
  plan.count = 4;
  plan.requests = 2;
  load_verifier verify
    = [](size_t request, const ca_result& res) -> std::string {
    CAF_CHECK_EQUAL(res.cert_chain.size(), 2u);
    return request == 1 ? "wrong identity" : "";
  };
  auto r = drive(calls, plan, verify);
  CAF_CHECK_EQUAL(r.total, 4u);
  CAF_CHECK_EQUAL(r.ok, 2u);
  CAF_CHECK_EQUAL(r.verify_failed, 2u);
  CAF_CHECK_EQUAL(r.verify_message, "wrong identity");
  CAF_CHECK(r.errors.empty());
  CAF_CHECK_EQUAL(r.latency.count(), 2u);
}

CAF_TEST(a stop abandons the calls in flight) {
  std::atomic<bool> stop{false};
  fake_calls calls{4, [&stop](const started&, size_t nth) {
                     if (nth == 5)
                       stop = true;
                     return ok_after(1s);
                   }};
  load_plan plan;
  plan.duration = 10s;
  auto r = drive_load(calls, plan, stop);
  CAF_CHECK(r.interrupted);
  CAF_CHECK_EQUAL(calls.starts.size(), 6u);
  // Two calls ended before the stop; the other four were cancelled.
  CAF_CHECK_EQUAL(r.ok, 2u);
  CAF_CHECK_EQUAL(r.total, 2u);
  CAF_CHECK_EQUAL(r.abandoned, 4u);
  CAF_CHECK(r.errors.empty());
  CAF_CHECK_EQUAL(r.elapsed, std::chrono::nanoseconds{1s});
  CAF_CHECK_EQUAL(exit_status(r), 130);
}

CAF_TEST(progress is reported once per interval) {
  fake_calls calls{1, [](const started&, size_t) { return ok_after(100ms); }};
  load_plan plan;
  plan.duration = 3s;
  std::vector<load_progress> seen;
  auto r = drive(calls, plan, {},
                 [&seen](const load_progress& p) { seen.push_back(p); });
  CAF_CHECK_EQUAL(r.total, 30u);
  CAF_REQUIRE_EQUAL(seen.size(), 3u);
  for (size_t i = 0; i < seen.size(); ++i) {
    CAF_CHECK_EQUAL(seen[i].elapsed, std::chrono::nanoseconds{(i + 1) * 1s});
    CAF_CHECK_EQUAL(seen[i].ok, seen[i].total);
  }
  CAF_CHECK_EQUAL(seen[0].total, 10u);
  CAF_CHECK_EQUAL(seen[0].in_flight, 1u);
}
