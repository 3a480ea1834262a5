#include "devcluster/faults.hpp"

#include <algorithm>

namespace istio_csr::devcluster {

namespace {

bool matches(const std::vector<std::string>& xs, const std::string& x) {
  return xs.empty() || std::find(xs.begin(), xs.end(), x) != xs.end();
}

std::optional<std::string> strings(const nlohmann::json& j, const char* key,
                                   std::vector<std::string>& out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null())
    return std::nullopt;
  if (!it->is_array())
    return std::string(key) + " must be a list of strings";
  for (auto& v : *it) {
    if (!v.is_string())
      return std::string(key) + " must be a list of strings";
    out.push_back(v.get<std::string>());
  }
  return std::nullopt;
}

} // namespace

std::optional<std::string>
fault_injector::configure(const nlohmann::json& config) {
  if (!config.is_object())
    return "fault configuration must be a JSON object";
  std::vector<fault_rule> rules;
  watch_faults watch;
  uint64_t seed = 0;
  try {
    if (auto it = config.find("seed"); it != config.end()) {
      if (!it->is_number_unsigned())
        return "seed must be a non-negative integer";
      seed = it->get<uint64_t>();
    }
    if (auto it = config.find("rules"); it != config.end()) {
      if (!it->is_array())
        return "rules must be a list";
      for (auto& r : *it) {
        if (!r.is_object())
          return "each rule must be an object";
        fault_rule rule;
        for (auto [key, target] : {std::pair{"verbs", &rule.verbs},
                                   std::pair{"resources", &rule.resources},
                                   std::pair{"namespaces", &rule.namespaces},
                                   std::pair{"users", &rule.users}})
          if (auto err = strings(r, key, *target))
            return err;
        rule.error = r.value("error", 0u);
        if (rule.error != 0 && rule.error != 429 && rule.error != 500
            && rule.error != 503 && rule.error != 504)
          return "error must be 429, 500, 503 or 504";
        rule.retry_after_seconds = r.value("retryAfterSeconds", 1);
        rule.latency_ms = r.value("latencyMs", 0);
        rule.probability = r.value("probability", 1.0);
        if (rule.probability < 0 || rule.probability > 1)
          return "probability must be between 0 and 1";
        if (auto c = r.find("count"); c != r.end() && !c->is_null()) {
          if (!c->is_number_integer() || c->get<int64_t>() < 0)
            return "count must be a non-negative integer";
          rule.count = c->get<int64_t>();
        }
        rule.message = r.value("message", "");
        if (rule.error == 0 && rule.latency_ms <= 0)
          return "a rule needs an error or a latency";
        rules.push_back(std::move(rule));
      }
    }
    if (auto it = config.find("watch"); it != config.end() && !it->is_null()) {
      if (!it->is_object())
        return "watch must be an object";
      if (auto n = it->find("dropAfterEvents"); n != it->end() && !n->is_null())
        watch.drop_after_events = n->get<int64_t>();
      if (auto t = it->find("dropAfterSeconds");
          t != it->end() && !t->is_null())
        watch.drop_after_seconds = t->get<double>();
    }
  } catch (const nlohmann::json::exception& e) {
    return std::string("bad fault configuration: ") + e.what();
  }
  rules_ = std::move(rules);
  watch_ = watch;
  seed_ = seed;
  rng_.seed(seed);
  return std::nullopt;
}

nlohmann::json fault_injector::to_json() const {
  nlohmann::json j;
  j["seed"] = seed_;
  j["rules"] = nlohmann::json::array();
  for (auto& r : rules_) {
    nlohmann::json o;
    o["verbs"] = r.verbs;
    o["resources"] = r.resources;
    o["namespaces"] = r.namespaces;
    o["users"] = r.users;
    if (r.error)
      o["error"] = r.error;
    o["retryAfterSeconds"] = r.retry_after_seconds;
    o["latencyMs"] = r.latency_ms;
    o["probability"] = r.probability;
    if (r.count)
      o["count"] = *r.count;
    if (!r.message.empty())
      o["message"] = r.message;
    j["rules"].push_back(std::move(o));
  }
  nlohmann::json w = nlohmann::json::object();
  if (watch_.drop_after_events)
    w["dropAfterEvents"] = *watch_.drop_after_events;
  if (watch_.drop_after_seconds)
    w["dropAfterSeconds"] = *watch_.drop_after_seconds;
  j["watch"] = std::move(w);
  return j;
}

fault_injector::decision fault_injector::decide(const std::string& verb,
                                                const std::string& resource,
                                                const std::string& subresource,
                                                const std::string& ns,
                                                const std::string& user) {
  decision d;
  std::string full
    = subresource.empty() ? resource : resource + "/" + subresource;
  for (auto& r : rules_) {
    if (r.count && *r.count <= 0)
      continue;
    if (!matches(r.verbs, verb) || !matches(r.namespaces, ns)
        || !matches(r.users, user))
      continue;
    if (!r.resources.empty()
        && std::find(r.resources.begin(), r.resources.end(), full)
             == r.resources.end()
        && (!subresource.empty()
            || std::find(r.resources.begin(), r.resources.end(), resource)
                 == r.resources.end()))
      continue;
    if (r.probability < 1.0) {
      std::uniform_real_distribution<double> dist(0.0, 1.0);
      if (dist(rng_) >= r.probability)
        continue;
    }
    if (r.count)
      --*r.count;
    d.latency = std::max(d.latency, std::chrono::milliseconds{r.latency_ms});
    if (r.error != 0 && d.error == 0) {
      d.error = r.error;
      d.retry_after_seconds = r.retry_after_seconds;
      d.message = r.message;
    }
  }
  std::erase_if(rules_,
                [](const fault_rule& r) { return r.count && *r.count <= 0; });
  return d;
}

} // namespace istio_csr::devcluster
