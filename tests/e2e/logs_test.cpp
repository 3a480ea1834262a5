#define CAF_SUITE e2e.logs
#include "tests/e2e/fixture.hpp"

#include <csignal>
#include <regex>

#include "tests/support/log_lines.hpp"

using namespace istio_csr;
using namespace istio_csr::test;
using namespace istio_csr::test::e2e;

namespace {

/// A token of the right shape that no API server issued: refused by the
/// TokenReview, and must not reach the log either.
const std::string forged_token
  = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImZvcmdlZCJ9."
    "eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6ZGVmYXVsdDpmb3JnZWQifQ."
    "Zm9yZ2VkLXNpZ25hdHVyZS1ieXRlcw";

/// What one agent run logged, every line parsed.
struct run_log {
  std::string raw;
  std::vector<log_line> lines;

  /// The first line with that message, or nullptr.
  const log_line* find(const std::string& msg) const {
    for (const auto& l : lines)
      if (l.msg == msg)
        return &l;
    return nullptr;
  }
};

/// Starts the agent with `--log-format=FORMAT` (at the e2e fixture's
/// `--log-level=2`), signs one CSR, has one call refused, stops the agent
/// with SIGTERM and parses every line it wrote. Fails the test on a line
/// that does not parse.
run_log run_agent(const std::string& format, std::string& token,
                  std::string& key_pem, int& pid) {
  agent_settings settings;
  settings.extra_args = {"--log-format=" + format};
  auto env = environment::start(settings);
  env->require();
  token = env->token;
  pid = env->csr_agent->process().pid();
  auto csr = make_csr(env->identity);
  key_pem = csr.key.to_pem();
  auto signed_call = env->call(csr.pem);
  CAF_CHECK(signed_call.ok());
  if (!signed_call.ok())
    CAF_MESSAGE(signed_call.describe() << "\n" << env->csr_agent->log_tail());
  call_options forged;
  forged.token = forged_token;
  auto refused = env->call(make_csr(env->identity).pem, forged);
  CAF_CHECK_EQUAL(csrctl::status_code_name(refused.code), "UNAUTHENTICATED");
  auto& proc = env->csr_agent->process();
  // The signer logs after answering: wait for both lines, then stop.
  CAF_CHECK(wait_until(
    [&] {
      auto err = proc.err();
      return contains(err, "signed CertificateRequest")
             && contains(err, "failed to authenticate request");
    },
    30s));
  proc.signal(SIGTERM);
  auto code = proc.wait_exit(60s);
  CAF_CHECK(code && *code == 0);
  run_log out;
  out.raw = proc.out() + proc.err();
  CAF_CHECK_EQUAL(proc.out(), "");
  size_t bad = 0;
  for (const auto& text : split_lines(proc.err())) {
    auto parsed
      = format == "json" ? parse_json_line(text) : parse_text_line(text);
    if (!parsed) {
      if (++bad <= 5)
        CAF_ERROR("a " << format << " line does not parse: " << text);
      continue;
    }
    out.lines.push_back(std::move(*parsed));
  }
  CAF_CHECK_EQUAL(bad, 0u);
  CAF_CHECK_GREATER(out.lines.size(), 10u);
  return out;
}

/// What both formats must show.
void check_common(const run_log& log, const std::string& token,
                  const std::string& key_pem, bool json) {
  // Every line names its caller and its logger.
  std::regex caller{json ? R"(^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+\.[ch]pp:\d+$)"
                         : R"(^[A-Za-z0-9_.-]+\.[ch]pp:\d+$)"};
  for (const auto& l : log.lines) {
    if (!std::regex_match(l.caller, caller))
      CAF_ERROR("caller '" << l.caller << "' of: " << l.msg);
    if (!l.get("logger"))
      CAF_ERROR("no logger in: " << l.msg);
  }
  // The lines an operator looks for, with their fields.
  auto serving = log.find("serving gRPC");
  CAF_REQUIRE(serving != nullptr);
  CAF_CHECK_EQUAL(serving->severity, 'I');
  CAF_CHECK_EQUAL(serving->get("logger"), "grpc-server");
  CAF_CHECK(serving->get("port").has_value());
  CAF_CHECK_EQUAL(serving->get("serving-addr"), "127.0.0.1:0");
  CAF_CHECK(json ? serving->caller.starts_with("agent/main.cpp:")
                 : serving->caller.starts_with("main.cpp:"));
  auto signed_line = log.find("signed CertificateRequest");
  CAF_REQUIRE(signed_line != nullptr);
  CAF_CHECK_EQUAL(signed_line->severity, 'I');
  CAF_CHECK(signed_line->get("identities").has_value());
  CAF_CHECK(signed_line->get("certificaterequest").has_value());
  auto refused = log.find("failed to authenticate request");
  CAF_REQUIRE(refused != nullptr);
  CAF_CHECK_EQUAL(refused->severity, 'E');
  CAF_CHECK_EQUAL(refused->get("logger"), "grpc-server");
  CAF_CHECK(log.find("shutting down") != nullptr);
  CAF_CHECK(log.find("stopped") != nullptr);
  // No bearer token, forged or real, and no private key.
  CAF_CHECK(!contains(log.raw, token));
  CAF_CHECK(!contains(log.raw, forged_token.substr(0, 40)));
  CAF_CHECK(!contains(log.raw, forged_token.substr(forged_token.size() - 20)));
  CAF_CHECK(!contains(log.raw, "PRIVATE KEY"));
  // The base64 body of the workload's key, line by line.
  for (const auto& line : split_lines(key_pem))
    if (!line.starts_with("-----") && line.size() > 16)
      CAF_CHECK(!contains(log.raw, line));
}

} // namespace

CAF_TEST(text logs are in the klog layout) {
  std::string token;
  std::string key_pem;
  int pid = 0;
  auto log = run_agent("text", token, key_pem, pid);
  check_common(log, token, key_pem, false);
  for (const auto& l : log.lines)
    if (l.pid != pid)
      CAF_ERROR("pid " << l.pid << " (want " << pid << ") in: " << l.msg);
  // Severity letters as klog: the debug line is an I line.
  std::string letters;
  for (const auto& l : log.lines)
    if (letters.find(l.severity) == std::string::npos)
      letters += l.severity;
  CAF_CHECK(contains(letters, "I"));
  CAF_CHECK(contains(letters, "E"));
}

CAF_TEST(json logs have the component - base fields) {
  std::string token;
  std::string key_pem;
  int pid = 0;
  auto start = std::chrono::duration<double>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  auto log = run_agent("json", token, key_pem, pid);
  auto end = std::chrono::duration<double>(
               std::chrono::system_clock::now().time_since_epoch())
               .count();
  check_common(log, token, key_pem, true);
  for (const auto& l : log.lines)
    if (l.ts < start - 1 || l.ts > end + 1)
      CAF_ERROR("ts " << l.ts << " outside the run in: " << l.msg);
  // v: 0 on info lines, the verbosity on debug lines, absent on errors.
  CAF_CHECK_EQUAL(log.find("serving gRPC")->v, 0);
  CAF_CHECK_EQUAL(log.find("signed CertificateRequest")->v, 2);
  CAF_CHECK(!log.find("failed to authenticate request")->v.has_value());
  // The raw lines: one object each, ts first.
  for (const auto& text : split_lines(log.raw))
    if (!text.starts_with("{\"ts\":"))
      CAF_ERROR("not a component-base line: " << text);
}
