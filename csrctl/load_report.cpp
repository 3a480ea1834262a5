#include "csrctl/load_report.hpp"

#include <cstdio>
#include <sstream>

#include <nlohmann/json.hpp>

#include "csrctl/ca_call.hpp"

namespace istio_csr::csrctl {

namespace {

using nlohmann::json;

double seconds(std::chrono::nanoseconds d) {
  return std::chrono::duration<double>(d).count();
}

double per_second(uint64_t n, std::chrono::nanoseconds elapsed) {
  auto s = seconds(elapsed);
  return s > 0 ? static_cast<double>(n) / s : 0.0;
}

double millis(latency_histogram::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

std::string fixed(double x, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, x);
  return buf;
}

std::string ms_text(latency_histogram::duration d) {
  return fixed(millis(d), 2) + " ms";
}

std::string key_text(const load_settings& s) {
  return s.key == "ecdsa" ? "ECDSA P-" + std::to_string(s.key_size)
                          : "RSA " + std::to_string(s.key_size);
}

std::string go_seconds(std::chrono::milliseconds d) {
  auto ms = d.count();
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + "s"
                        : fixed(static_cast<double>(ms) / 1000.0, 3) + "s";
}

} // namespace

double load_report::throughput() const noexcept {
  return per_second(ok, elapsed);
}

std::string render_summary(const load_report& r) {
  const auto& s = r.settings;
  std::ostringstream out;
  out << "csrctl load: " << r.total << " call" << (r.total == 1 ? "" : "s")
      << " to " << s.address << " in " << fixed(seconds(r.elapsed), 3) << " s"
      << (r.interrupted ? " (interrupted)" : "") << '\n';
  out << "  settings       ";
  if (s.rate > 0)
    out << "rate " << fixed(s.rate, s.rate == double(uint64_t(s.rate)) ? 0 : 2)
        << "/s (at most " << s.concurrency << " in flight)";
  else
    out << "concurrency " << s.concurrency;
  out << ", " << s.connections << " connection"
      << (s.connections == 1 ? "" : "s") << ", " << s.identities << " identit"
      << (s.identities == 1 ? "y" : "ies")
      << (s.impersonate ? " (impersonated)" : "") << ", " << key_text(s)
      << ", timeout " << go_seconds(s.timeout) << ", retry "
      << (s.retry ? "on" : "off") << ", verify " << (s.verify ? "on" : "off");
  if (s.count)
    out << ", count " << *s.count;
  if (s.duration)
    out << ", duration " << go_seconds(*s.duration);
  out << '\n';
  out << "  ok             " << r.ok << '\n';
  uint64_t errors = 0;
  for (const auto& [code, n] : r.errors)
    errors += n;
  out << "  errors         " << errors;
  const char* sep = ": ";
  for (const auto& [code, n] : r.errors) {
    out << sep << status_code_name(code) << ' ' << n;
    sep = ", ";
  }
  out << '\n';
  for (const auto& [code, message] : r.error_messages)
    out << "                 " << status_code_name(code) << ": " << message
        << '\n';
  if (s.verify || r.verify_failed > 0) {
    out << "  verify failed  " << r.verify_failed << '\n';
    if (!r.verify_message.empty())
      out << "                 " << r.verify_message << '\n';
  }
  out << "  retries        " << r.retries << '\n';
  if (s.rate > 0 || r.skipped > 0)
    out << "  skipped        " << r.skipped << '\n';
  if (r.interrupted)
    out << "  abandoned      " << r.abandoned << '\n';
  out << "  throughput     " << fixed(r.throughput(), 1) << " ok/s, "
      << fixed(per_second(r.total, r.elapsed), 1) << " calls/s\n";
  out << "  latency (ok)   ";
  if (r.latency.count() == 0)
    out << "-\n";
  else
    out << "p50 " << ms_text(r.latency.percentile(50)) << ", p90 "
        << ms_text(r.latency.percentile(90)) << ", p99 "
        << ms_text(r.latency.percentile(99)) << ", max "
        << ms_text(r.latency.max()) << '\n';
  return out.str();
}

std::string render_json(const load_report& r) {
  const auto& s = r.settings;
  json settings{{"address", s.address},
                {"concurrency", s.concurrency},
                {"connections", s.connections},
                {"identities", s.identities},
                {"key", s.key},
                {"key_size", s.key_size},
                {"rate", s.rate > 0 ? json(s.rate) : json(nullptr)},
                {"count", s.count ? json(*s.count) : json(nullptr)},
                {"duration_seconds",
                 s.duration ? json(seconds(*s.duration)) : json(nullptr)},
                {"timeout_seconds", seconds(s.timeout)},
                {"retry", s.retry},
                {"verify", s.verify},
                {"impersonate", s.impersonate}};
  json errors = json::object();
  for (const auto& [code, n] : r.errors)
    errors[status_code_name(code)] = n;
  json messages = json::object();
  for (const auto& [code, message] : r.error_messages)
    messages[status_code_name(code)] = message;
  json latency = json::object();
  for (auto [name, p] :
       {std::pair{"p50", 50.0}, std::pair{"p90", 90.0}, std::pair{"p99", 99.0}})
    latency[name] = r.latency.count() == 0
                      ? json(nullptr)
                      : json(millis(r.latency.percentile(p)));
  latency["max"]
    = r.latency.count() == 0 ? json(nullptr) : json(millis(r.latency.max()));
  return json{{"settings", std::move(settings)},
              {"total", r.total},
              {"ok", r.ok},
              {"errors", std::move(errors)},
              {"error_messages", std::move(messages)},
              {"verify_failed", r.verify_failed},
              {"verify_message", r.verify_message.empty()
                                   ? json(nullptr)
                                   : json(r.verify_message)},
              {"retries", r.retries},
              {"skipped", r.skipped},
              {"abandoned", r.abandoned},
              {"interrupted", r.interrupted},
              {"elapsed_seconds", seconds(r.elapsed)},
              {"throughput", r.throughput()},
              {"calls_per_second", per_second(r.total, r.elapsed)},
              {"latency_ms", std::move(latency)}}
    .dump(-1, ' ', false, json::error_handler_t::replace);
}

int exit_status(const load_report& r) {
  if (r.interrupted)
    return 130;
  bool all_ok = r.total > 0 && r.ok == r.total && r.skipped == 0;
  return all_ok ? 0 : 1;
}

} // namespace istio_csr::csrctl
