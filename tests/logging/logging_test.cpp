#define CAF_SUITE logging.format
#include "caf/test/unit_test.hpp"

#include <ctime>
#include <mutex>
#include <regex>
#include <thread>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "logging/format.hpp"
#include "logging/logging.hpp"
#include "tests/support/log_lines.hpp"

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

/// The klog header and the rest of the line, by `klog_header_regex`.
bool is_text_line(const std::string& line) {
  return line.back() == '\n' && std::count(line.begin(), line.end(), '\n') == 1
         && test::parse_text_line(line).has_value();
}

/// "MMDD hh:mm:ss" of now in local time.
std::string local_now(std::time_t t) {
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%m%d %H:%M:%S", &tm);
  return buf;
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

CAF_TEST(text format is the klog layout) {
  logging::init({1, logging::format::text});
  auto log = logging::get("grpc-server");
  auto before = std::time(nullptr);
  logging::info(*log, "serving",
                {{"serving-addr", "0.0.0.0:6443"}, {"n", "3"}});
  int line_no = __LINE__ - 2;
  auto after = std::time(nullptr);
  auto lines = take();
  CAF_REQUIRE_EQUAL(lines.size(), 1u);
  auto& line = lines[0];
  CAF_CHECK(is_text_line(line));
  // I1206 16:45:06.055123    4242 logging_test.cpp:NN] "serving" ...
  std::regex header{R"(^I\d{4} \d{2}:\d{2}:\d{2}\.\d{6} {1,7}\d+ )"};
  CAF_CHECK(std::regex_search(line, header));
  char pid[16];
  std::snprintf(pid, sizeof(pid), " %7d ", static_cast<int>(::getpid()));
  CAF_CHECK_EQUAL(line.substr(21, 9), pid);
  CAF_CHECK_EQUAL(line.substr(30),
                  "logging_test.cpp:" + std::to_string(line_no)
                    + "] \"serving\" serving-addr=\"0.0.0.0:6443\" n=\"3\" "
                      "logger=\"grpc-server\"\n");
  auto stamp = line.substr(1, 13);
  CAF_CHECK(stamp == local_now(before) || stamp == local_now(after));
  auto parsed = test::parse_text_line(line);
  CAF_REQUIRE(parsed);
  CAF_CHECK_EQUAL(parsed->severity, 'I');
  CAF_CHECK_EQUAL(parsed->pid, ::getpid());
  CAF_CHECK_EQUAL(parsed->msg, "serving");
  CAF_CHECK_EQUAL(parsed->keys,
                  (std::vector<std::string>{"serving-addr", "n", "logger"}));
}

CAF_TEST(text severity letters) {
  logging::init({3, logging::format::text});
  auto log = logging::get("t");
  logging::trace(*log, "t");
  logging::debug(*log, "d");
  logging::info(*log, "i");
  logging::warn(*log, "w");
  logging::error(*log, "e");
  std::string letters;
  for (auto& line : take()) {
    CAF_CHECK(is_text_line(line));
    letters += line[0];
  }
  CAF_CHECK_EQUAL(letters, "IIIWE");
}

CAF_TEST(text format quotes like go and stays on one line) {
  logging::init({1, logging::format::text});
  auto log = logging::get("t");
  logging::warn(
    *log, "two\nlines",
    {{"v", "say \"hi\"\\ \n\tend \x01 \x7f gr\xC3\xBC\xC3\x9F \xff"},
     {"bad key=\"x\"", "y"}});
  auto lines = take();
  CAF_REQUIRE_EQUAL(lines.size(), 1u);
  CAF_CHECK(is_text_line(lines[0]));
  CAF_CHECK(lines[0].find(
              "] \"two\\nlines\" v=\"say \\\"hi\\\"\\\\ \\n\\tend \\x01 \\x7f "
              "gr\xC3\xBC\xC3\x9F \\xff\" bad_key__x_=\"y\" logger=\"t\"\n")
            != std::string::npos);
  auto parsed = test::parse_text_line(lines[0]);
  CAF_REQUIRE(parsed);
  CAF_CHECK_EQUAL(parsed->msg, "two\nlines");
  CAF_CHECK_EQUAL(parsed->get("v"),
                  "say \"hi\"\\ \n\tend \x01 \x7f gr\xC3\xBC\xC3\x9F \xff");
}

CAF_TEST(go quoting) {
  CAF_CHECK_EQUAL(logging::quoted(""), "\"\"");
  CAF_CHECK_EQUAL(logging::quoted("a b"), "\"a b\"");
  CAF_CHECK_EQUAL(logging::quoted("\a\b\f\n\r\t\v"),
                  "\"\\a\\b\\f\\n\\r\\t\\v\"");
  CAF_CHECK_EQUAL(logging::quoted(std::string{"\0\x1f", 2}), "\"\\x00\\x1f\"");
  // Valid UTF-8 (2, 3 and 4 bytes) stays; invalid bytes are escaped.
  CAF_CHECK_EQUAL(logging::quoted("\xC3\xBC \xE2\x82\xAC \xF0\x9F\x98\x80"),
                  "\"\xC3\xBC \xE2\x82\xAC \xF0\x9F\x98\x80\"");
  CAF_CHECK_EQUAL(logging::quoted("\xC3"), "\"\\xc3\"");
  CAF_CHECK_EQUAL(logging::quoted("\xE2\x82"), "\"\\xe2\\x82\"");
  CAF_CHECK_EQUAL(logging::quoted("\xC0\xAF"), "\"\\xc0\\xaf\"");
  // What the test parser undoes.
  for (std::string s : {"x", "a\"b\\c\nd", "\x01\x7f\xff", "\xC3\xBC"})
    CAF_CHECK_EQUAL(test::unquote(logging::quoted(s)), s);
}

CAF_TEST(errors go in err right after the message) {
  logging::init({1, logging::format::text});
  auto log = logging::get("e");
  logging::error(*log, "failed", {{"name", "x"}, {"err", "boom"}});
  auto lines = take();
  CAF_REQUIRE_EQUAL(lines.size(), 1u);
  CAF_CHECK_EQUAL(lines[0][0], 'E');
  CAF_CHECK(lines[0].find("] \"failed\" err=\"boom\" name=\"x\" logger=\"e\"\n")
            != std::string::npos);
  logging::init({1, logging::format::json});
  logging::error(*log, "failed", {{"name", "x"}, {"err", "boom"}});
  lines = take();
  CAF_REQUIRE_EQUAL(lines.size(), 1u);
  auto obj = nlohmann::ordered_json::parse(lines[0]);
  std::vector<std::string> keys;
  for (auto& [k, v] : obj.items())
    keys.push_back(k);
  // An error line has no v.
  CAF_CHECK_EQUAL(keys, (std::vector<std::string>{"ts", "caller", "msg",
                                                  "logger", "err", "name"}));
  CAF_CHECK_EQUAL(obj["err"], "boom");
}

CAF_TEST(json format has the component - base fields) {
  logging::init({1, logging::format::json});
  auto log = logging::get("tls-provider");
  auto before = std::chrono::system_clock::now();
  logging::warn(*log, "fetch failed",
                {{"reason", "quote \" backslash \\ newline \n tab \t ctl \x01"},
                 {"unicode", "gr\xC3\xBC\xC3\x9F"},
                 {"msg", "not the message"},
                 {"v", "not the verbosity"}});
  int line_no = __LINE__ - 5;
  auto after = std::chrono::system_clock::now();
  auto lines = take();
  CAF_REQUIRE_EQUAL(lines.size(), 1u);
  auto& line = lines[0];
  CAF_CHECK_EQUAL(line.back(), '\n');
  CAF_CHECK_EQUAL(std::count(line.begin(), line.end(), '\n'), 1);
  auto obj = nlohmann::ordered_json::parse(line);
  std::vector<std::string> keys;
  for (auto& [k, v] : obj.items())
    keys.push_back(k);
  CAF_CHECK_EQUAL(keys, (std::vector<std::string>{"ts", "caller", "msg", "v",
                                                  "logger", "reason", "unicode",
                                                  "field.msg", "field.v"}));
  CAF_REQUIRE(obj["ts"].is_number_float());
  auto ts = obj["ts"].get<double>();
  auto secs = [](auto tp) {
    return std::chrono::duration<double>(tp.time_since_epoch()).count();
  };
  CAF_CHECK(ts >= secs(before) - 1e-6 && ts <= secs(after) + 1e-6);
  // Microseconds at most: "1733500000.123456".
  auto raw = line.substr(6, line.find(',') - 6);
  CAF_CHECK(std::regex_match(raw, std::regex{R"(^\d{10}(\.\d{1,6})?$)"}));
  CAF_CHECK_EQUAL(obj["caller"],
                  "logging/logging_test.cpp:" + std::to_string(line_no));
  CAF_CHECK_EQUAL(obj["v"], 0); // a warning is an info line at v 0
  CAF_CHECK_EQUAL(obj["logger"], "tls-provider");
  CAF_CHECK_EQUAL(obj["msg"], "fetch failed");
  CAF_CHECK_EQUAL(obj["reason"],
                  "quote \" backslash \\ newline \n tab \t ctl \x01");
  CAF_CHECK_EQUAL(obj["unicode"], "gr\xC3\xBC\xC3\x9F");
  CAF_CHECK_EQUAL(obj["field.msg"], "not the message");
  CAF_CHECK_EQUAL(obj["field.v"], "not the verbosity");
  // The raw line escapes control characters.
  CAF_CHECK(line.find("\\n") != std::string::npos);
  CAF_CHECK(line.find("\\u0001") != std::string::npos);
  auto parsed = test::parse_json_line(line);
  CAF_REQUIRE(parsed);
  CAF_CHECK_EQUAL(parsed->severity, 'I');
}

CAF_TEST(json verbosity of each level) {
  logging::init({3, logging::format::json});
  auto log = logging::get("t");
  logging::trace(*log, "t");
  logging::debug(*log, "d");
  logging::info(*log, "i");
  logging::warn(*log, "w");
  logging::error(*log, "e");
  std::vector<std::string> vs;
  for (auto& line : take()) {
    auto obj = nlohmann::json::parse(line);
    vs.push_back(obj.contains("v") ? obj["v"].dump() : "-");
  }
  CAF_CHECK_EQUAL(vs, (std::vector<std::string>{"3", "2", "0", "0", "-"}));
}

CAF_TEST(tokens and private keys never reach a line) {
  const std::string jwt
    = "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJzeXN0ZW06c2EifQ."
      "c2lnbmF0dXJlLWJ5dGVz_-";
  const std::string pem = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n"
                          "-----END EC PRIVATE KEY-----\n";
  CAF_CHECK_EQUAL(logging::redact("Bearer " + jwt + " rest"),
                  "Bearer [redacted: token] rest");
  CAF_CHECK_EQUAL(logging::redact(jwt + "," + jwt),
                  "[redacted: token],[redacted: token]");
  CAF_CHECK_EQUAL(logging::redact(pem), "[redacted: private key]");
  // Not tokens: no three segments, or not starting with eyJ.
  for (std::string s : {"eyJ", "eyJabc.def", "a.b.c", "eyJa..c", "keys"})
    CAF_CHECK_EQUAL(logging::redact(s), s);
  for (auto fmt : {logging::format::text, logging::format::json}) {
    logging::init({1, fmt});
    auto log = logging::get("secrets");
    logging::info(*log, "token " + jwt, {{"authorization", "Bearer " + jwt}});
    logging::error(*log, "key", {{"err", pem}, {"key", pem}});
    for (auto& line : take()) {
      CAF_CHECK(line.find(jwt.substr(0, 20)) == std::string::npos);
      CAF_CHECK(line.find("PRIVATE KEY") == std::string::npos);
      CAF_CHECK(line.find("MHcCAQEE") == std::string::npos);
      CAF_CHECK(line.find("[redacted: ") != std::string::npos);
    }
  }
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
  CAF_CHECK(is_text_line(lines[0]));
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
