#define CAF_SUITE logging.format
#include "caf/test/unit_test.hpp"

#include <ctime>
#include <mutex>
#include <regex>
#include <thread>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "logging/logging.hpp"

using namespace istio_csr;

namespace {

/// Captures every line written by the logging module.
struct fixture {
  std::mutex mtx;
  std::vector<std::string> lines;

  fixture() {
    logging::set_writer_for_testing([this](std::string_view line) {
      std::lock_guard<std::mutex> guard{mtx};
      lines.emplace_back(line);
    });
  }

  ~fixture() {
    logging::set_writer_for_testing({});
    logging::init({});
  }

  std::vector<std::string> take() {
    std::lock_guard<std::mutex> guard{mtx};
    return std::exchange(lines, {});
  }
};

const std::regex text_line{
  R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z [A-Z]+ \[[^\]]*\] .*\n$)"};

/// Seconds since the epoch of an RFC 3339 UTC time with milliseconds.
std::time_t parse_time(const std::string& s) {
  std::tm tm{};
  if (::strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) == nullptr)
    return 0;
  return timegm(&tm);
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(logging_tests, fixture)

CAF_TEST(verbosity maps to spdlog levels) {
  CAF_CHECK_EQUAL(logging::level_for(0), spdlog::level::info);
  CAF_CHECK_EQUAL(logging::level_for(1), spdlog::level::info);
  CAF_CHECK_EQUAL(logging::level_for(2), spdlog::level::debug);
  CAF_CHECK_EQUAL(logging::level_for(3), spdlog::level::trace);
  CAF_CHECK_EQUAL(logging::level_for(5), spdlog::level::trace);
}

CAF_TEST(text format) {
  logging::init({1, logging::format::text});
  auto log = logging::get("grpc-server");
  logging::info(*log, "serving",
                {{"serving-addr", "0.0.0.0:6443"}, {"n", "3"}});
  auto lines = take();
  CAF_REQUIRE_EQUAL(lines.size(), 1u);
  auto& line = lines[0];
  CAF_CHECK(std::regex_match(line, text_line));
  CAF_CHECK(
    line.find(" INFO [grpc-server] serving serving-addr=\"0.0.0.0:6443\" "
              "n=\"3\"\n")
    != std::string::npos);
  auto t = parse_time(line.substr(0, 19));
  CAF_CHECK_LESS(std::abs(std::time(nullptr) - t), 5);
}

CAF_TEST(text format escapes to one line) {
  logging::init({1, logging::format::text});
  auto log = logging::get("t");
  logging::warn(*log, "two\nlines", {{"v", "say \"hi\"\\ \n\tend"}});
  auto lines = take();
  CAF_REQUIRE_EQUAL(lines.size(), 1u);
  CAF_CHECK(std::regex_match(lines[0], text_line));
  CAF_CHECK(lines[0].find(" WARN [t] two\\nlines v=\"say \\\"hi\\\"\\\\ "
                          "\\n\\tend\"\n")
            != std::string::npos);
  CAF_CHECK_EQUAL(std::count(lines[0].begin(), lines[0].end(), '\n'), 1);
}

CAF_TEST(json format) {
  logging::init({1, logging::format::json});
  auto log = logging::get("tls-provider");
  logging::error(*log, "fetch failed",
                 {{"error", "quote \" backslash \\ newline \n tab \t ctl \x01"},
                  {"unicode", "gr\xC3\xBC\xC3\x9F"},
                  {"msg", "not the message"}});
  auto lines = take();
  CAF_REQUIRE_EQUAL(lines.size(), 1u);
  auto& line = lines[0];
  CAF_CHECK_EQUAL(line.back(), '\n');
  CAF_CHECK_EQUAL(std::count(line.begin(), line.end(), '\n'), 1);
  auto obj = nlohmann::ordered_json::parse(line);
  std::vector<std::string> keys;
  for (auto& [k, v] : obj.items())
    keys.push_back(k);
  CAF_CHECK_EQUAL(keys,
                  (std::vector<std::string>{"time", "level", "logger", "msg",
                                            "error", "unicode", "field.msg"}));
  CAF_CHECK_EQUAL(obj["level"], "error");
  CAF_CHECK_EQUAL(obj["logger"], "tls-provider");
  CAF_CHECK_EQUAL(obj["msg"], "fetch failed");
  CAF_CHECK_EQUAL(obj["error"],
                  "quote \" backslash \\ newline \n tab \t ctl \x01");
  CAF_CHECK_EQUAL(obj["unicode"], "gr\xC3\xBC\xC3\x9F");
  CAF_CHECK_EQUAL(obj["field.msg"], "not the message");
  std::string time = obj["time"];
  CAF_CHECK(std::regex_match(
    time, std::regex{R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$)"}));
  CAF_CHECK_LESS(std::abs(std::time(nullptr) - parse_time(time)), 5);
  // The raw line escapes control characters.
  CAF_CHECK(line.find("\\n") != std::string::npos);
  CAF_CHECK(line.find("\\u0001") != std::string::npos);
}

CAF_TEST(json format survives invalid utf8) {
  logging::init({1, logging::format::json});
  auto log = logging::get("t");
  logging::info(*log, "bad \xff bytes", {{"k", "\xc3"}});
  auto lines = take();
  CAF_REQUIRE_EQUAL(lines.size(), 1u);
  auto obj = nlohmann::json::parse(lines[0]);
  CAF_CHECK_EQUAL(obj["msg"], "bad \xEF\xBF\xBD bytes");
}

CAF_TEST(level filtering) {
  auto log = logging::get("filter"); // created before init: still follows it
  auto emit_all = [&] {
    logging::trace(*log, "t");
    logging::debug(*log, "d");
    logging::info(*log, "i");
    logging::warn(*log, "w");
    logging::error(*log, "e");
  };
  auto levels = [&] {
    std::string out;
    for (auto& line : take())
      out += nlohmann::json::parse(line)["msg"].get<std::string>();
    return out;
  };
  logging::init({1, logging::format::json});
  emit_all();
  CAF_CHECK_EQUAL(levels(), "iwe");
  logging::init({2, logging::format::json});
  emit_all();
  CAF_CHECK_EQUAL(levels(), "diwe");
  logging::init({3, logging::format::json});
  emit_all();
  CAF_CHECK_EQUAL(levels(), "tdiwe");
  // Loggers created after init get the current level too.
  logging::init({1, logging::format::json});
  auto late = logging::get("late");
  logging::debug(*late, "hidden");
  logging::info(*late, "shown");
  CAF_CHECK_EQUAL(levels(), "shown");
}

CAF_TEST(plain spdlog calls use the configured format) {
  logging::init({1, logging::format::json});
  logging::get("plain")->info("n={} s={}", 5, "x");
  spdlog::info("via default {}", 1);
  auto lines = take();
  CAF_REQUIRE_EQUAL(lines.size(), 2u);
  auto a = nlohmann::json::parse(lines[0]);
  CAF_CHECK_EQUAL(a["msg"], "n=5 s=x");
  CAF_CHECK_EQUAL(a["logger"], "plain");
  auto b = nlohmann::json::parse(lines[1]);
  CAF_CHECK_EQUAL(b["msg"], "via default 1");
  // A later set_pattern cannot break the format.
  logging::get("plain")->set_pattern("%v");
  logging::get("plain")->info("still json");
  lines = take();
  CAF_REQUIRE_EQUAL(lines.size(), 1u);
  auto still = nlohmann::json::parse(lines[0]);
  CAF_CHECK_EQUAL(still["msg"], "still json");
  // The same logger object is returned for a name.
  CAF_CHECK_EQUAL(logging::get("plain").get(), logging::get("plain").get());
}

CAF_TEST(switching format applies to existing loggers) {
  auto log = logging::get("switch");
  logging::init({1, logging::format::text});
  logging::info(*log, "one");
  logging::init({1, logging::format::json});
  logging::info(*log, "two");
  auto lines = take();
  CAF_REQUIRE_EQUAL(lines.size(), 2u);
  CAF_CHECK(std::regex_match(lines[0], text_line));
  auto two = nlohmann::json::parse(lines[1]);
  CAF_CHECK_EQUAL(two["msg"], "two");
}

CAF_TEST(concurrent logging keeps lines whole) {
  logging::init({1, logging::format::json});
  constexpr int threads = 8;
  constexpr int per_thread = 200;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t)
    workers.emplace_back([t] {
      auto log = logging::get("worker-" + std::to_string(t % 3));
      for (int i = 0; i < per_thread; ++i)
        logging::info(*log, "line",
                      {{"thread", std::to_string(t)},
                       {"i", std::to_string(i)},
                       {"pad", std::string(100, 'x')}});
    });
  for (auto& w : workers)
    w.join();
  auto lines = take();
  CAF_REQUIRE_EQUAL(lines.size(), static_cast<size_t>(threads * per_thread));
  std::vector<int> next(threads, 0);
  size_t bad = 0;
  for (auto& line : lines) {
    auto obj = nlohmann::json::parse(line, nullptr, false);
    if (obj.is_discarded()) {
      ++bad;
      continue;
    }
    auto t = std::stoi(obj["thread"].get<std::string>());
    auto i = std::stoi(obj["i"].get<std::string>());
    // Per thread, lines arrive in order.
    if (i != next[t])
      ++bad;
    next[t] = i + 1;
  }
  CAF_CHECK_EQUAL(bad, 0u);
}

CAF_TEST(the real sink writes to stderr) {
  // With the test writer removed, lines go to file descriptor 2.
  logging::set_writer_for_testing({});
  logging::init({1, logging::format::json});
  std::fflush(stderr);
  char path[] = "/tmp/icsr-log-XXXXXX";
  int fd = ::mkstemp(path);
  CAF_REQUIRE(fd >= 0);
  int saved = ::dup(2);
  ::dup2(fd, 2);
  logging::info(*logging::get("stderr"), "to stderr", {{"k", "v"}});
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  ::close(fd);
  std::string content;
  if (auto* f = std::fopen(path, "r")) {
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0)
      content.append(buf, n);
    std::fclose(f);
  }
  ::unlink(path);
  CAF_REQUIRE(!content.empty());
  auto obj = nlohmann::json::parse(content);
  CAF_CHECK_EQUAL(obj["msg"], "to stderr");
  CAF_CHECK_EQUAL(obj["k"], "v");
}

CAF_TEST_FIXTURE_SCOPE_END()
