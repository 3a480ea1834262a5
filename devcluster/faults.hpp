#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace istio_csr::devcluster {

/// One fault rule. JSON form (every member optional):
/// `{"verbs": ["create"], "resources": ["certificaterequests"],
///   "namespaces": ["istio-system"], "users": ["system:serviceaccount:a:b"],
///   "error": 500, "retryAfterSeconds": 1,
///   "latencyMs": 100, "probability": 0.5, "count": 3, "message": "..."}`
/// Empty lists match everything; `resources` entries are plural names,
/// optionally with a subresource ("pods/status"). `error` is 429 (with a
/// `Retry-After` header), 500, 503 or 504. `count` makes the rule fire for
/// the next N matching requests only (deterministic), then retire.
struct fault_rule {
  std::vector<std::string> verbs;
  std::vector<std::string> resources;
  std::vector<std::string> namespaces;
  /// Authenticated user names (an agent's service account, say, while the
  /// admin that sets up a drill is spared).
  std::vector<std::string> users;
  unsigned error = 0;
  int retry_after_seconds = 1;
  int latency_ms = 0;
  double probability = 1.0;
  std::optional<int64_t> count;
  std::string message;
};

/// Faults of watch streams: `{"dropAfterEvents": N, "dropAfterSeconds": T}`
/// closes every watch (cleanly, as a server restart would) after N events
/// or T seconds.
struct watch_faults {
  std::optional<int64_t> drop_after_events;
  std::optional<double> drop_after_seconds;
};

/// The injected faults: `{"seed": 1, "rules": [...], "watch": {...}}`.
class fault_injector {
 public:
  /// What to do with one request.
  struct decision {
    std::chrono::milliseconds latency{0};
    unsigned error = 0;
    int retry_after_seconds = 1;
    std::string message;
  };

  /// Replaces the configuration; returns an error text on bad input (and
  /// keeps the old configuration).
  std::optional<std::string> configure(const nlohmann::json& config);

  /// Current configuration, with the remaining counts.
  nlohmann::json to_json() const;

  /// Decides the faults of one request (updating counts).
  decision decide(const std::string& verb, const std::string& resource,
                  const std::string& subresource, const std::string& ns,
                  const std::string& user = {});

  const watch_faults& watch() const noexcept {
    return watch_;
  }

  bool empty() const noexcept {
    return rules_.empty();
  }

 private:
  std::vector<fault_rule> rules_;
  watch_faults watch_;
  uint64_t seed_ = 0;
  std::mt19937_64 rng_{0};
};

} // namespace istio_csr::devcluster
