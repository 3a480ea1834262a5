#include "metrics/rest_client.hpp"

#include <mutex>
#include <string>
#include <unordered_map>

#include "metrics/buckets.hpp"
#include "metrics/family.hpp"

namespace istio_csr::metrics {

namespace {

struct rest_series {
  counter requests;
  histogram duration;
};

/// Makes (or finds) the series of one label set: under a lock, once per
/// label set and thread.
rest_series make(const std::string& code, const std::string& method,
                 const std::string& host) {
  using namespace detail;
  static std::mutex mtx;
  static auto& requests = counter_family(
    "rest_client_requests_total",
    "Number of HTTP requests, partitioned by status code, method, and host.");
  static auto& durations = histogram_family(
    "rest_client_request_duration_seconds",
    "Request latency in seconds. Broken down by verb, and host.");
  std::lock_guard<std::mutex> guard{mtx};
  return {add(requests, {{"code", code}, {"method", method}, {"host", host}}),
          add(durations, {{"verb", method}, {"host", host}},
              buckets::rest_client_seconds)};
}

} // namespace

void rest_client_request(std::string_view method, int status,
                         std::string_view host, double seconds) {
  // Per thread (the Kubernetes client has one I/O thread): after the first
  // request of a label set, a lookup without a lock or an allocation.
  thread_local std::unordered_map<std::string, rest_series> cache;
  thread_local std::string key;
  key.clear();
  key.append(method).append(1, ' ').append(host).append(1, ' ');
  if (status > 0)
    key.append(std::to_string(status));
  auto i = cache.find(key);
  if (i == cache.end()) {
    auto code = status > 0 ? std::to_string(status) : "<error>";
    i = cache.emplace(key, make(code, std::string{method}, std::string{host}))
          .first;
  }
  i->second.requests.inc();
  i->second.duration.observe(seconds);
}

} // namespace istio_csr::metrics
