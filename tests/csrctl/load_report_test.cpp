// The report of csrctl load: the human summary (errors by code name, first
// messages, throughput, percentiles), the JSON object and its documented
// keys, and the exit status.

#define CAF_SUITE csrctl.load_report

#include "caf/test/unit_test.hpp"

#include <set>

#include <nlohmann/json.hpp>

#include "csrctl/load_report.hpp"

using namespace std::chrono_literals;
using namespace istio_csr::csrctl;
using nlohmann::json;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::unique_ptr<load_report> sample() {
  auto r = std::make_unique<load_report>();
  r->settings.address = "127.0.0.1:6443";
  r->settings.concurrency = 64;
  r->settings.connections = 4;
  r->settings.identities = 16;
  r->settings.key = "ecdsa";
  r->settings.key_size = 256;
  r->settings.count = 1000;
  r->settings.timeout = 30s;
  r->settings.retry = true;
  r->settings.verify = true;
  r->total = 1000;
  r->ok = 990;
  r->errors = {{16, 6}, {14, 2}};
  r->error_messages
    = {{16, "request authenticate failure"}, {14, "connection refused"}};
  r->verify_failed = 2;
  r->verify_message = "the leaf's URI SANs are [], expected exactly [x]";
  r->retries = 5;
  r->elapsed = 2s;
  for (int i = 1; i <= 100; ++i)
    r->latency.record(std::chrono::milliseconds{i});
  return r;
}

json parsed(const load_report& r) {
  auto text = render_json(r);
  CAF_CHECK(!contains(text, "\n"));
  auto j = json::parse(text, nullptr, false);
  CAF_REQUIRE(j.is_object());
  return j;
}

} // namespace

CAF_TEST(the summary names errors by code with their first message) {
  auto r = sample();
  auto text = render_summary(*r);
  CAF_MESSAGE(text);
  CAF_CHECK(contains(text, "csrctl load: 1000 calls to 127.0.0.1:6443 in "
                           "2.000 s\n"));
  CAF_CHECK(contains(text, "concurrency 64, 4 connections, 16 identities, "
                           "ECDSA P-256, timeout 30s, retry on, verify on, "
                           "count 1000\n"));
  CAF_CHECK(contains(text, "  ok             990\n"));
  CAF_CHECK(
    contains(text, "  errors         8: UNAVAILABLE 2, UNAUTHENTICATED 6\n"));
  CAF_CHECK(contains(text, "UNAUTHENTICATED: request authenticate failure\n"));
  CAF_CHECK(contains(text, "UNAVAILABLE: connection refused\n"));
  CAF_CHECK(contains(text, "  verify failed  2\n"));
  CAF_CHECK(contains(text, "expected exactly [x]\n"));
  CAF_CHECK(contains(text, "  retries        5\n"));
  CAF_CHECK(contains(text, "  throughput     495.0 ok/s, 500.0 calls/s\n"));
  CAF_CHECK(contains(text, "  latency (ok)   p50 50."));
  CAF_CHECK(contains(text, ", max 100.00 ms\n"));
  CAF_CHECK(!contains(text, "skipped"));
  CAF_CHECK(!contains(text, "interrupted"));
}

CAF_TEST(the summary shows skipped and abandoned calls) {
  auto r = sample();
  r->settings.rate = 250;
  r->settings.count.reset();
  r->settings.duration = 90s;
  r->skipped = 3;
  r->interrupted = true;
  r->abandoned = 7;
  auto text = render_summary(*r);
  CAF_CHECK(contains(text, " in 2.000 s (interrupted)\n"));
  CAF_CHECK(contains(text, "rate 250/s (at most 64 in flight)"));
  CAF_CHECK(contains(text, "duration 90s\n"));
  CAF_CHECK(contains(text, "  skipped        3\n"));
  CAF_CHECK(contains(text, "  abandoned      7\n"));
}

CAF_TEST(the JSON object has the documented keys) {
  auto r = sample();
  auto j = parsed(*r);
  std::set<std::string> keys;
  for (const auto& item : j.items())
    keys.insert(item.key());
  CAF_CHECK_EQUAL(
    keys,
    (std::set<std::string>{
      "settings", "total", "ok", "errors", "error_messages", "verify_failed",
      "verify_message", "retries", "skipped", "abandoned", "interrupted",
      "elapsed_seconds", "throughput", "calls_per_second", "latency_ms"}));
  CAF_CHECK_EQUAL(j["total"], 1000);
  CAF_CHECK_EQUAL(j["ok"], 990);
  CAF_CHECK_EQUAL(j["errors"],
                  (json{{"UNAUTHENTICATED", 6}, {"UNAVAILABLE", 2}}));
  CAF_CHECK_EQUAL(j["error_messages"]["UNAUTHENTICATED"],
                  "request authenticate failure");
  CAF_CHECK_EQUAL(j["verify_failed"], 2);
  CAF_CHECK_EQUAL(j["retries"], 5);
  CAF_CHECK_EQUAL(j["interrupted"], false);
  CAF_CHECK_EQUAL(j["elapsed_seconds"].get<double>(), 2.0);
  CAF_CHECK_EQUAL(j["throughput"].get<double>(), 495.0);
  CAF_CHECK_EQUAL(j["calls_per_second"].get<double>(), 500.0);
  auto p50 = j["latency_ms"]["p50"].get<double>();
  CAF_CHECK(p50 >= 50.0 && p50 <= 50.0 * (1 + 1.0 / 256));
  CAF_CHECK(j["latency_ms"]["p90"].get<double>() >= 90.0);
  CAF_CHECK(j["latency_ms"]["p99"].get<double>() >= 99.0);
  CAF_CHECK_EQUAL(j["latency_ms"]["max"].get<double>(), 100.0);
  const auto& s = j["settings"];
  CAF_CHECK_EQUAL(s["address"], "127.0.0.1:6443");
  CAF_CHECK_EQUAL(s["concurrency"], 64);
  CAF_CHECK_EQUAL(s["connections"], 4);
  CAF_CHECK_EQUAL(s["identities"], 16);
  CAF_CHECK_EQUAL(s["key"], "ecdsa");
  CAF_CHECK_EQUAL(s["key_size"], 256);
  CAF_CHECK(s["rate"].is_null());
  CAF_CHECK_EQUAL(s["count"], 1000);
  CAF_CHECK(s["duration_seconds"].is_null());
  CAF_CHECK_EQUAL(s["timeout_seconds"].get<double>(), 30.0);
  CAF_CHECK_EQUAL(s["retry"], true);
  CAF_CHECK_EQUAL(s["verify"], true);
}

CAF_TEST(without a successful call the latencies are null) {
  load_report r;
  r.total = 3;
  r.errors = {{16, 3}};
  r.error_messages = {{16, std::string{"bad \xff\xfe bytes"}}};
  auto j = parsed(r);
  for (const auto* key : {"p50", "p90", "p99", "max"})
    CAF_CHECK(j["latency_ms"][key].is_null());
  CAF_CHECK_EQUAL(j["throughput"].get<double>(), 0.0);
  // Invalid UTF-8 from the server does not break the JSON.
  CAF_CHECK_EQUAL(j["error_messages"]["UNAUTHENTICATED"],
                  "bad \xef\xbf\xbd\xef\xbf\xbd bytes");
  CAF_CHECK(contains(render_summary(r), "  latency (ok)   -\n"));
}

CAF_TEST(the exit status is zero only when every call succeeded) {
  load_report r;
  CAF_CHECK_EQUAL(exit_status(r), 1); // no call at all
  r.total = r.ok = 10;
  CAF_CHECK_EQUAL(exit_status(r), 0);
  r.skipped = 1;
  CAF_CHECK_EQUAL(exit_status(r), 1);
  r.skipped = 0;
  r.total = 11;
  r.verify_failed = 1;
  CAF_CHECK_EQUAL(exit_status(r), 1);
  r.verify_failed = 0;
  r.errors = {{14, 1}};
  CAF_CHECK_EQUAL(exit_status(r), 1);
  r.interrupted = true;
  CAF_CHECK_EQUAL(exit_status(r), 130);
}
