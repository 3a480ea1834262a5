// The debug endpoint and chaos mode of the real agent (docs/debugging.md):
// it listens on loopback and says so; GET /debug/actors lists the whole
// supervision tree with the documented fields, every actor answering for
// itself; a kill of a csr-signer restarts it (incarnation and restart
// metric up) while concurrent CreateCertificate calls all get answers; the
// root cannot be killed, unknown paths are not found, browsers are turned
// away; chaos mode kills what its flags allow, and says so loudly.
#define CAF_SUITE e2e.debug

#include "tests/e2e/fixture.hpp"

#include <atomic>
#include <mutex>
#include <thread>

#include "tests/support/check_case.hpp"
#include "tests/support/http.hpp"
#include "tests/support/log_lines.hpp"

using namespace istio_csr;
using namespace istio_csr::test;
using namespace istio_csr::test::e2e;

namespace {

environment& shared() {
  static std::unique_ptr<environment> env = [] {
    agent_settings s;
    s.metrics = true;
    s.extra_args = {"--debug-address=127.0.0.1:0"};
    return environment::start(s);
  }();
  return *env;
}

/// curl as the operator's client: METHOD http://127.0.0.1:port/target.
http_result http(std::uint16_t port, const std::string& method,
                 const std::string& target,
                 const std::vector<std::string>& extra = {}) {
  auto r = curl_http(port, target, method, extra);
  if (r.status == 0)
    CAF_MESSAGE(r.error);
  return r;
}

/// The node at `path` in a tree from GET /debug/actors, or null.
const json* find(const json& node, const std::string& path) {
  if (node.value("path", "") == path)
    return &node;
  if (auto children = node.find("children"); children != node.end())
    for (const auto& child : *children)
      if (auto* found = find(child, path))
        return found;
  return nullptr;
}

/// Every node below (and with) `node`.
void each(const json& node, const std::function<void(const json&)>& f) {
  f(node);
  if (auto children = node.find("children"); children != node.end())
    for (const auto& child : *children)
      each(child, f);
}

struct fixture {
  environment& env = shared();
  std::uint16_t port = 0;

  fixture() {
    env.require();
    auto text = env.csr_agent->field_of("serving the debug endpoint", "port");
    port = static_cast<std::uint16_t>(std::atoi(text.c_str()));
    CAF_REQUIRE_NOT_EQUAL(port, 0);
  }

  json tree() {
    auto r = http(port, "GET", "/debug/actors");
    CAF_REQUIRE_EQUAL(r.status, 200);
    auto parsed = json::parse(r.body, nullptr, false);
    CAF_REQUIRE(parsed.is_object());
    return parsed;
  }

  /// GETs the tree until `pred` holds on it (deadline 60 s).
  json tree_until(const std::function<bool(const json&)>& pred) {
    json t;
    wait_until(
      [&] {
        t = tree();
        return pred(t);
      },
      60s, 100ms);
    return t;
  }

  double signer_restarts() {
    return std::max(0.0,
                    metric_sample(env.csr_agent->scrape(),
                                  "istio_csr_actor_restarts_total{actor=\"csr-"
                                  "signer\"}"));
  }
};

const std::string configmap_path
  = "root/leader-election/leader/namespace-watcher/configmap/configmap/"
    "default";

} // namespace

CAF_TEST_FIXTURE_SCOPE(debug_tests, fixture)

CAF_TEST(the debug endpoint listens on loopback only and says so) {
  auto line = env.csr_agent->process().wait_for_line(
    "serving the debug endpoint", 10s, true);
  CAF_REQUIRE(line);
  auto parsed = parse_text_line(*line);
  CAF_REQUIRE(parsed);
  CAF_CHECK_EQUAL(parsed->severity, 'I');
  CAF_CHECK(parsed->msg.find("loopback only") != std::string::npos);
  CAF_CHECK_EQUAL(parsed->get("address"), std::string{"127.0.0.1"});
  CAF_CHECK_EQUAL(parsed->get("loopback"), std::string{"true"});
  // Bound to 127.0.0.1 itself: another loopback address (or any other
  // interface) finds nothing there.
  CAF_CHECK(tcp_connect(port, {}, "127.0.0.1").valid());
  CAF_CHECK(!tcp_connect(port, {}, "127.0.0.2").valid());
}

CAF_TEST(GET lists the whole tree with the documented fields) {
  auto t = tree_until([](const json& t) {
    auto* cm = find(t, configmap_path);
    return cm != nullptr && cm->value("running", false);
  });
  CAF_CHECK_EQUAL(t.value("name", ""), "root");
  CAF_CHECK_EQUAL(t.value("path", ""), "root");
  CAF_CHECK_EQUAL(t.value("supervisor", false), true);
  CAF_CHECK_EQUAL(t.value("incarnation", 0), 1);
  for (auto path : {"root/kube-client", "root/root-ca", "root/cr-watcher",
                    "root/csr-signer-0", "root/csr-signer-1",
                    "root/csr-dispatcher", "root/cert-obtainer",
                    "root/leader-election", "root/leader-election/leader",
                    "root/leader-election/leader/namespace-watcher",
                    "root/leader-election/leader/namespace-watcher/configmap"})
    ICSR_CHECK_CASE(find(t, path) != nullptr, path);
  CAF_CHECK(find(t, configmap_path) != nullptr);
  CAF_CHECK_EQUAL(
    find(t, "root/leader-election/leader")->value("supervisor", false), true);
  // Every node has every field; every running actor answered for itself.
  size_t nodes = 0;
  each(t, [&](const json& n) {
    ++nodes;
    auto path = n.value("path", "?");
    for (auto key : {"name", "path", "incarnation", "restarts",
                     "recent_failures", "max_restarts", "running", "supervisor",
                     "mailbox", "state", "children"})
      ICSR_CHECK_CASE(n.contains(key), path << " lacks " << key);
    ICSR_CHECK_CASE(n["incarnation"].is_number_unsigned()
                      && n["restarts"].is_number_unsigned()
                      && n["running"].is_boolean()
                      && n["supervisor"].is_boolean() && n["state"].is_string()
                      && n["children"].is_array(),
                    path);
    if (n.value("running", false))
      ICSR_CHECK_CASE(n["mailbox"].is_number_unsigned()
                        && n["state"].get<std::string>().rfind("no answer", 0)
                             != 0,
                      path << ": " << n.dump());
    for (const auto& c : n["children"])
      ICSR_CHECK_CASE(c.value("path", "") == path + "/" + c.value("name", ""),
                      c.value("path", ""));
  });
  CAF_CHECK(nodes >= 15);
  auto& signer = *find(t, "root/csr-signer-0");
  CAF_CHECK(signer["state"].get<std::string>().find("in flight")
            != std::string::npos);
}

CAF_TEST(a killed signer restarts while concurrent calls get answers) {
  auto before = tree_until([](const json& t) {
    auto* s = find(t, "root/csr-signer-0");
    return s != nullptr && s->value("running", false);
  });
  auto incarnation = find(before, "root/csr-signer-0")->value("incarnation", 0);
  auto restarts = find(before, "root/csr-signer-0")->value("restarts", 0);
  auto metric = signer_restarts();
  // Calls go on in four threads from before the kill until the signer is
  // back: every one must get an answer, OK or one istio-agent retries.
  std::atomic<bool> done{false};
  std::mutex mtx;
  std::vector<call_result> results;
  std::vector<std::thread> callers;
  for (int i = 0; i < 4; ++i)
    callers.emplace_back([&] {
      while (!done) {
        auto r = env.call(make_csr(env.identity).pem);
        std::lock_guard<std::mutex> guard{mtx};
        results.push_back(std::move(r));
      }
    });
  auto calls_so_far = [&] {
    std::lock_guard<std::mutex> guard{mtx};
    return results.size();
  };
  CAF_CHECK(wait_until([&] { return calls_so_far() >= 4; }, 60s));
  auto killed = http(port, "POST", "/debug/actors/root/csr-signer-0/kill");
  CAF_CHECK_EQUAL(killed.status, 200);
  auto answer = json::parse(killed.body, nullptr, false);
  CAF_CHECK_EQUAL(answer.value("killed", ""), "root/csr-signer-0");
  CAF_CHECK_EQUAL(answer.value("incarnation", 0), incarnation);
  auto after = tree_until([&](const json& t) {
    auto* s = find(t, "root/csr-signer-0");
    return s != nullptr && s->value("running", false)
           && s->value("incarnation", 0) == incarnation + 1;
  });
  auto kills_done = calls_so_far();
  CAF_CHECK(wait_until([&] { return calls_so_far() >= kills_done + 4; }, 60s));
  done = true;
  for (auto& t : callers)
    t.join();
  auto* signer = find(after, "root/csr-signer-0");
  CAF_REQUIRE(signer != nullptr);
  CAF_CHECK_EQUAL(signer->value("incarnation", 0), incarnation + 1);
  CAF_CHECK_EQUAL(signer->value("restarts", 0), restarts + 1);
  CAF_CHECK(wait_until([&] { return signer_restarts() == metric + 1; }, 30s));
  size_t ok = 0;
  for (auto& r : results) {
    ICSR_CHECK_CASE(r.ok() || retriable(r.code), r.describe());
    ICSR_CHECK_CASE(r.elapsed < 20s, r.describe());
    ok += r.ok() ? 1 : 0;
  }
  CAF_MESSAGE(results.size() << " calls, " << ok << " OK");
  CAF_CHECK(ok > 0);
  // The kill and the restart are in the log, with the reason.
  auto kill_line = env.csr_agent->process().wait_for_line(
    "debug endpoint: killing actor", 10s, true);
  CAF_REQUIRE(kill_line);
  CAF_CHECK_EQUAL(log_field(*kill_line, "actor"), "root/csr-signer-0");
  CAF_CHECK(wait_until(
    [&] {
      auto err = env.csr_agent->process().err();
      return err.find("child=\"csr-signer-0\" reason=\"supervisor.killed: "
                      "debug endpoint\"")
             != std::string::npos;
    },
    10s));
}

CAF_TEST(the root is refused unknown paths are not found) {
  auto root = http(port, "POST", "/debug/actors/root/kill");
  CAF_CHECK_EQUAL(root.status, 403);
  CAF_CHECK(json::parse(root.body, nullptr, false).contains("error"));
  auto unknown = http(port, "POST", "/debug/actors/root/no-such-actor/kill");
  CAF_CHECK_EQUAL(unknown.status, 404);
  CAF_CHECK(json::parse(unknown.body, nullptr, false).contains("error"));
  CAF_CHECK_EQUAL(http(port, "POST", "/debug/actors/csr-signer-0/kill").status,
                  404); // paths start at the root
  CAF_CHECK_EQUAL(
    http(port, "GET", "/debug/actors/root/csr-signer-0/kill").status, 405);
  CAF_CHECK_EQUAL(http(port, "POST", "/debug/actors").status, 405);
  CAF_CHECK_EQUAL(http(port, "GET", "/debug/other").status, 404);
  // What a web page in a browser on this host would send.
  CAF_CHECK_EQUAL(http(port, "POST", "/debug/actors/root/csr-signer-1/kill",
                       {"-H", "Origin: http://evil.example"})
                    .status,
                  403);
  CAF_CHECK_EQUAL(
    http(port, "GET", "/debug/actors", {"-H", "Host: rebound.example:1234"})
      .status,
    403);
  CAF_CHECK_EQUAL(
    http(port, "GET", "/debug/actors", {"-H", "Host: [rebound.example]"})
      .status,
    403);
  CAF_CHECK_EQUAL(
    http(port, "GET", "/debug/actors", {"-H", "Host: localhost:1"}).status,
    200);
  // Nothing was killed.
  auto t = tree();
  CAF_CHECK_EQUAL(find(t, "root/csr-signer-1")->value("incarnation", 0), 1);
}

CAF_TEST(chaos mode kills what its flags allow and says so) {
  agent_settings s;
  s.extra_args = {"--chaos-kill-interval=300ms", "--chaos-seed=7",
                  "--chaos-actors=csr-signer-*"};
  std::string why;
  auto agent = start_agent(*env.cluster, s, why);
  if (agent == nullptr)
    CAF_FAIL(why);
  auto& proc = agent->process();
  auto start = proc.wait_for_line("CHAOS MODE IS ON", 10s, true);
  CAF_REQUIRE(start);
  auto parsed = parse_text_line(*start);
  CAF_REQUIRE(parsed);
  CAF_CHECK_EQUAL(parsed->severity, 'W');
  CAF_CHECK_EQUAL(parsed->get("seed"), std::string{"7"});
  CAF_CHECK_EQUAL(parsed->get("interval"), std::string{"300ms"});
  CAF_CHECK_EQUAL(parsed->get("actors"), std::string{"csr-signer-*"});
  // Two kills (fewer than the root supervisor's intensity allows a child).
  std::vector<log_line> kills;
  CAF_CHECK(wait_until(
    [&] {
      kills.clear();
      for (auto& text : split_lines(proc.err()))
        if (auto l = parse_text_line(text);
            l && l->msg == "chaos mode: killing actor")
          kills.push_back(*l);
      return kills.size() >= 2;
    },
    30s));
  for (auto& k : kills) {
    auto actor = k.get("actor").value_or("");
    ICSR_CHECK_CASE(actor.rfind("root/csr-signer-", 0) == 0, actor);
    ICSR_CHECK_CASE(k.severity == 'W', actor);
    ICSR_CHECK_CASE(!k.get("incarnation").value_or("").empty(), actor);
  }
  CAF_CHECK(proc.running());
}

CAF_TEST_FIXTURE_SCOPE_END()
