// The shutdown drill: SIGTERM while workloads call. The agent (with
// --shutdown-grace-period=3s) exits in time, releases the Lease while gRPC
// drains, answers every call with a certificate or a code istio-agent
// retries, and leaves no CertificateRequest behind.

#define CAF_SUITE e2e.shutdown

#include "tests/e2e/fixture.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <signal.h>
#include <thread>

#include "kube/api/object.hpp"

using namespace istio_csr;
using namespace istio_csr::test;
using namespace istio_csr::test::e2e;

namespace {

using steady = std::chrono::steady_clock;

/// The Issuer of the drill (its delay is changed on devcluster).
const std::string drill_issuer = "shutdown-drill";

/// Sets devcluster's signing delay of the drill's Issuer.
void set_delay(const test_cluster& cluster, const std::string& delay) {
  auto res = cluster.kubectl(
    {"annotate", "issuer", drill_issuer, "-n", certificate_namespace,
     "devcluster.istio-csr.io/delay=" + delay, "--overwrite"});
  CAF_REQUIRE_EQUAL(res.exit_code, 0);
  set_issuer_behaviour(cluster, drill_issuer, "delay");
}

/// The CertificateRequests left in the certificate namespace: all of them
/// on devcluster (this test's own cluster), those of `identity` on a shared
/// real cluster.
std::vector<std::string> left_behind(const test_cluster& cluster,
                                     const std::string& identity) {
  std::vector<std::string> names;
  for (auto& cr : certificate_requests(cluster)) {
    auto annotations = cr.at("metadata").value("annotations", json::object());
    if (cluster.is_devcluster()
        || annotations.value(identities_annotation, "") == identity)
      names.push_back(kube::object_ref{cr}.name());
  }
  return names;
}

/// Workloads calling the agent in a loop on threads of their own: a call
/// as soon as the last one is answered, until one fails after `signal`.
class load {
 public:
  /// One answer and when it came.
  struct answer {
    call_result result;
    steady::time_point at;
  };

  explicit load(const environment& env, int workloads = 4) {
    for (int i = 0; i < workloads; ++i)
      threads_.emplace_back([this, &env] { run(env); });
  }

  ~load() {
    join();
  }

  /// Calls answered with a certificate so far.
  std::size_t signed_calls() {
    std::lock_guard guard{mtx_};
    return static_cast<std::size_t>(
      std::count_if(answers_.begin(), answers_.end(),
                    [](const answer& a) { return a.result.ok(); }));
  }

  /// No new call until `resume`; waits until none is in flight.
  bool hold(std::chrono::milliseconds timeout) {
    std::unique_lock guard{mtx_};
    held_ = true;
    return cv_.wait_for(guard, timeout, [this] { return busy_ == 0; });
  }

  void resume() {
    {
      std::lock_guard guard{mtx_};
      held_ = false;
    }
    cv_.notify_all();
  }

  /// Sends SIGTERM to `proc`; from now on a failed call ends its workload.
  steady::time_point signal(child_process& proc) {
    signalled_ = true;
    proc.signal(SIGTERM);
    return steady::now();
  }

  /// Waits for every workload to end; their answers.
  std::vector<answer> join() {
    resume();
    for (auto& t : threads_)
      if (t.joinable())
        t.join();
    std::lock_guard guard{mtx_};
    return answers_;
  }

 private:
  void run(const environment& env) {
    for (int failures = 0; failures < 3;) {
      {
        std::unique_lock guard{mtx_};
        cv_.wait(guard, [this] { return !held_; });
        ++busy_;
      }
      call_options opts;
      opts.timeout = 20s;
      auto r = env.call(make_csr(env.identity).pem, opts);
      failures = r.ok() ? 0 : signalled_ ? 3 : failures + 1;
      {
        std::lock_guard guard{mtx_};
        --busy_;
        answers_.push_back({std::move(r), steady::now()});
      }
      cv_.notify_all();
    }
  }

  std::mutex mtx_;
  std::condition_variable cv_;
  bool held_ = false;
  int busy_ = 0;
  std::atomic<bool> signalled_{false};
  std::vector<answer> answers_;
  std::vector<std::thread> threads_;
};

/// Position in the agent's log (stderr) of the first line holding `needle`
/// (npos if none): earlier lines were written earlier.
std::size_t log_position(const agent_process& agent,
                         const std::string& needle) {
  return agent.process().err().find(needle);
}

} // namespace

CAF_TEST(sigterm under load loses no call and leaves nothing behind) {
  agent_settings settings;
  settings.issuer_name = drill_issuer;
  settings.extra_args = {"--shutdown-grace-period=3s"};
  auto env = environment::start(settings, [](environment& e) {
    // On a shared real cluster an earlier agent's Lease may still be valid.
    if (!e.cluster->is_devcluster())
      e.cluster->kubectl({"delete", "lease", "istio-csr", "-n", "istio-system",
                          "--ignore-not-found"});
    return create_ca_issuer(*e.cluster, drill_issuer, "istio-ca");
  });
  env->require();
  auto& cluster = *env->cluster;
  auto& agent = *env->csr_agent;
  auto identity = leader_identity(agent);
  CAF_REQUIRE(!identity.empty());
  auto holder = [&] {
    auto lease = read_lease(cluster);
    return lease.is_null() ? std::string{"<none>"}
                           : kube::string_at(lease, {"spec", "holderIdentity"});
  };
  CAF_REQUIRE(wait_until([&] { return holder() == identity; }, 30s, 100ms));
  // Calls stay in flight for a while, so that SIGTERM finds some (only
  // devcluster's issuer can be slowed down).
  bool delayed = cluster.has_devcluster_issuer();
  if (delayed)
    set_delay(cluster, "500ms");
  // The load: four workloads calling in a loop; after SIGTERM each one
  // stops at its first failed call (istio-agent would back off, then find
  // another replica). The test can hold them between calls.
  load workloads{*env};
  CAF_REQUIRE(
    wait_until([&] { return workloads.signed_calls() >= 8; }, 60s, 20ms));
  // One call that takes longer than the drain (its CertificateRequest waits
  // 30 s for the issuer): the agent must cancel it and delete its request
  // instead of waiting. The workloads wait meanwhile, so that only this
  // call is slow; then they go on with fast calls, in flight at SIGTERM.
  std::future<call_result> slow;
  if (delayed) {
    CAF_REQUIRE(workloads.hold(30s));
    set_delay(cluster, "30s");
    auto csr = make_csr(env->identity);
    slow = std::async(std::launch::async, [&env, pem = csr.pem] {
      call_options opts;
      opts.timeout = 40s;
      return env->call(pem, opts);
    });
    CAF_REQUIRE(wait_until(
      [&] { return find_request(cluster, csr.pem).has_value(); }, 20s, 20ms));
    set_delay(cluster, "500ms");
    auto before = workloads.signed_calls();
    workloads.resume();
    CAF_REQUIRE(wait_until(
      [&] { return workloads.signed_calls() >= before + 4; }, 30s, 20ms));
  }
  auto& proc = agent.process();
  auto sent = workloads.signal(proc);
  auto status = proc.wait_exit(30s);
  auto took = steady::now() - sent;
  auto results = workloads.join();
  CAF_REQUIRE(status.has_value());
  CAF_MESSAGE(
    "exited with "
    << *status << " after "
    << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
    << " ms");
  // In time, by itself: the grace period is 3 s (the watchdog's exit would
  // be status 1; a drain waiting for the slow call, 30 s).
  CAF_CHECK_EQUAL(*status, 0);
  CAF_CHECK_LESS(took, 6s);
  if (*status != 0 || took >= 6s)
    CAF_MESSAGE("the agent's log:\n" << agent.log_tail(20000));
  CAF_CHECK_EQUAL(log_position(agent, "shutdown did not finish"),
                  std::string::npos);
  // No call was lost: a certificate, or a code istio-agent retries...
  if (delayed) {
    auto r = slow.get();
    CAF_CHECK(retriable(r.code));
    CAF_MESSAGE("the slow call: " << r.describe());
  }
  std::size_t ok = 0;
  std::size_t ok_after = 0;
  for (auto& [r, done] : results) {
    if (r.ok()) {
      ++ok;
      if (done > sent)
        ++ok_after;
    } else if (!retriable(r.code)) {
      CAF_FAIL(
        "a call got a code istio-agent does not retry: " << r.describe());
    }
  }
  CAF_MESSAGE(results.size() << " calls, " << ok << " signed, " << ok_after
                             << " of them answered during the drain");
  CAF_CHECK_GREATER_OR_EQUAL(ok, 8u);
  // ... and calls in flight at SIGTERM got their certificates.
  if (delayed)
    CAF_CHECK_GREATER(ok_after, 0u);
  // The Lease was released by the agent before it exited...
  CAF_CHECK_EQUAL(holder(), "");
  auto released = log_position(agent, "released lease");
  CAF_CHECK_NOT_EQUAL(released, std::string::npos);
  // ... while gRPC drained (the slow call held the drain for its whole
  // share, 1.8 s), not after it.
  auto drained = log_position(agent, "stopping the actors");
  CAF_CHECK_NOT_EQUAL(drained, std::string::npos);
  if (delayed)
    CAF_CHECK_LESS(released, drained);
  // Nothing is left behind.
  auto left = left_behind(cluster, env->identity);
  CAF_CHECK(left.empty());
  for (auto& name : left)
    CAF_MESSAGE("left behind: CertificateRequest " << name);
}
