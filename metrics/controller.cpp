#include "metrics/controller.hpp"

#include <map>
#include <mutex>
#include <unordered_map>

#include "metrics/buckets.hpp"
#include "metrics/family.hpp"

namespace istio_csr::metrics {

struct running_work::impl {
  mutable std::mutex mtx;
  std::uint64_t next = 1;
  std::unordered_map<std::uint64_t, std::chrono::steady_clock::time_point>
    started;
};

running_work::running_work() : impl_(std::make_unique<impl>()) {}

running_work::~running_work() = default;

std::uint64_t running_work::start() {
  auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> guard{impl_->mtx};
  auto id = impl_->next++;
  impl_->started.emplace(id, now);
  return id;
}

void running_work::finish(std::uint64_t id) {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  impl_->started.erase(id);
}

std::pair<double, double> running_work::seconds() const {
  auto now = std::chrono::steady_clock::now();
  double sum = 0;
  double longest = 0;
  std::lock_guard<std::mutex> guard{impl_->mtx};
  for (const auto& [id, at] : impl_->started) {
    double s = std::chrono::duration<double>(now - at).count();
    sum += s;
    longest = std::max(longest, s);
  }
  return {sum, longest};
}

namespace {

struct controller_entry {
  controller_handles handles;
  gauge unfinished;
  gauge longest;
};

struct controllers {
  std::mutex mtx;
  std::map<std::string, controller_entry, std::less<>> entries;
};

controllers& all() {
  static controllers instance;
  return instance;
}

controller_entry make(const std::string& name) {
  using namespace detail;
  static auto& reconcile_total
    = counter_family("controller_runtime_reconcile_total",
                     "Total number of reconciliations per controller");
  static auto& reconcile_errors
    = counter_family("controller_runtime_reconcile_errors_total",
                     "Total number of reconciliation errors per controller");
  static auto& reconcile_time
    = histogram_family("controller_runtime_reconcile_time_seconds",
                       "Length of time per reconciliation per controller");
  static auto& max_concurrent
    = gauge_family("controller_runtime_max_concurrent_reconciles",
                   "Maximum number of concurrent reconciles per controller");
  static auto& active_workers
    = gauge_family("controller_runtime_active_workers",
                   "Number of currently used workers per controller");
  static auto& depth
    = gauge_family("workqueue_depth", "Current depth of workqueue");
  static auto& adds = counter_family(
    "workqueue_adds_total", "Total number of adds handled by workqueue");
  static auto& retries = counter_family(
    "workqueue_retries_total", "Total number of retries handled by workqueue");
  static auto& queue_duration = histogram_family(
    "workqueue_queue_duration_seconds",
    "How long in seconds an item stays in workqueue before being requested");
  static auto& work_duration = histogram_family(
    "workqueue_work_duration_seconds",
    "How long in seconds processing an item from workqueue takes.");
  static auto& unfinished = gauge_family(
    "workqueue_unfinished_work_seconds",
    "How many seconds of work has been done that is in progress and hasn't "
    "been observed by work_duration. Large values indicate stuck threads. "
    "One can deduce the number of stuck threads by observing the rate at "
    "which this increases.");
  static auto& longest = gauge_family(
    "workqueue_longest_running_processor_seconds",
    "How many seconds has the longest running processor for workqueue been "
    "running.");
  const labels c{{"controller", name}};
  const labels q{{"name", name}};
  auto with_result = [&](const char* result) {
    auto l = c;
    l["result"] = result;
    return add(reconcile_total, l);
  };
  controller_entry e;
  auto& h = e.handles;
  h.reconcile_success = with_result("success");
  h.reconcile_error = with_result("error");
  h.reconcile_requeue = with_result("requeue");
  h.reconcile_requeue_after = with_result("requeue_after");
  h.reconcile_errors = add(reconcile_errors, c);
  h.reconcile_time = add(reconcile_time, c, buckets::reconcile_seconds);
  h.max_concurrent_reconciles = add(max_concurrent, c);
  h.active_workers = add(active_workers, c);
  h.depth = add(depth, q);
  h.adds = add(adds, q);
  h.retries = add(retries, q);
  h.queue_duration = add(queue_duration, q, buckets::workqueue_seconds);
  h.work_duration = add(work_duration, q, buckets::workqueue_seconds);
  h.running = std::make_shared<running_work>();
  e.unfinished = add(unfinished, q);
  e.longest = add(longest, q);
  return e;
}

} // namespace

controller_handles controller(std::string_view name) {
  auto& c = all();
  std::lock_guard<std::mutex> guard{c.mtx};
  auto i = c.entries.find(name);
  if (i == c.entries.end())
    i = c.entries.emplace(std::string{name}, make(std::string{name})).first;
  return i->second.handles;
}

void update_workqueue_gauges() {
  auto& c = all();
  std::lock_guard<std::mutex> guard{c.mtx};
  for (auto& [name, e] : c.entries) {
    auto [sum, longest] = e.handles.running->seconds();
    e.unfinished.set(sum);
    e.longest.set(longest);
  }
}

} // namespace istio_csr::metrics
