#include "kube/api/time.hpp"

#include <cstdio>
#include <ctime>

namespace istio_csr::kube {

namespace {

using namespace std::chrono;

std::string format_impl(system_clock::time_point tp, bool micro) {
  auto secs = floor<seconds>(tp);
  auto frac = duration_cast<microseconds>(tp - secs).count();
  auto t = system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  if (micro)
    std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
                  tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                  tm.tm_min, tm.tm_sec, static_cast<int>(frac));
  else
    std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02dZ",
                  tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                  tm.tm_min, tm.tm_sec);
  return buf;
}

bool digits(std::string_view text, size_t pos, size_t n, int& out) {
  if (pos + n > text.size())
    return false;
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (text[i] < '0' || text[i] > '9')
      return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

} // namespace

std::string format_time(system_clock::time_point tp) {
  return format_impl(tp, false);
}

std::string format_micro_time(system_clock::time_point tp) {
  return format_impl(tp, true);
}

std::optional<system_clock::time_point> parse_time(std::string_view text) {
  int year, month, day, hour, minute, second;
  if (!digits(text, 0, 4, year) || text.size() < 20 || text[4] != '-'
      || !digits(text, 5, 2, month) || text[7] != '-'
      || !digits(text, 8, 2, day) || (text[10] != 'T' && text[10] != 't')
      || !digits(text, 11, 2, hour) || text[13] != ':'
      || !digits(text, 14, 2, minute) || text[16] != ':'
      || !digits(text, 17, 2, second))
    return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59
      || second > 60)
    return std::nullopt;
  size_t pos = 19;
  nanoseconds frac{0};
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int64_t value = 0;
    int n = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (n < 9) {
        value = value * 10 + (text[pos] - '0');
        ++n;
      }
      ++pos;
    }
    if (n == 0)
      return std::nullopt;
    for (int i = n; i < 9; ++i)
      value *= 10;
    frac = nanoseconds{value};
  }
  seconds offset{0};
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int oh, om;
    if (!digits(text, pos + 1, 2, oh) || pos + 3 >= text.size()
        || text[pos + 3] != ':' || !digits(text, pos + 4, 2, om))
      return std::nullopt;
    offset = hours{oh} + minutes{om};
    if (text[pos] == '-')
      offset = -offset;
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != text.size())
    return std::nullopt;
  auto ymd = year_month_day{std::chrono::year{year},
                            std::chrono::month{static_cast<unsigned>(month)},
                            std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok())
    return std::nullopt;
  auto tp
    = sys_days{ymd} + hours{hour} + minutes{minute} + seconds{second} - offset;
  // system_clock counts nanoseconds: it holds 1677 to 2262 only.
  constexpr auto earliest = ceil<seconds>(system_clock::time_point::min());
  constexpr auto latest = floor<seconds>(system_clock::time_point::max());
  if (tp < earliest || tp >= latest)
    return std::nullopt;
  return time_point_cast<system_clock::duration>(tp + frac);
}

std::string format_go_duration(nanoseconds d) {
  if (d == nanoseconds::zero())
    return "0s";
  std::string sign;
  if (d < nanoseconds::zero()) {
    // The smallest duration has no positive counterpart (Go prints it so).
    if (d == nanoseconds::min())
      return "-2562047h47m16.854775808s";
    sign = "-";
    d = -d;
  }
  auto fraction = [](int64_t whole, int64_t part, int digits_count) {
    // `whole` plus `part` / 10^digits_count, trailing zeros dropped.
    std::string result = std::to_string(whole);
    if (part != 0) {
      auto text = std::to_string(part);
      text.insert(0, static_cast<size_t>(digits_count) - text.size(), '0');
      while (!text.empty() && text.back() == '0')
        text.pop_back();
      result += '.';
      result += text;
    }
    return result;
  };
  auto ns = d.count();
  if (d < microseconds{1})
    return sign + std::to_string(ns) + "ns";
  if (d < milliseconds{1})
    return sign + fraction(ns / 1000, ns % 1000, 3) + "\u00b5s";
  if (d < seconds{1})
    return sign + fraction(ns / 1000000, ns % 1000000, 6) + "ms";
  auto h = ns / 3600'000'000'000LL;
  ns -= h * 3600'000'000'000LL;
  auto m = ns / 60'000'000'000LL;
  ns -= m * 60'000'000'000LL;
  auto s = fraction(ns / 1'000'000'000LL, ns % 1'000'000'000LL, 9) + "s";
  if (h > 0)
    return sign + std::to_string(h) + "h" + std::to_string(m) + "m" + s;
  if (m > 0)
    return sign + std::to_string(m) + "m" + s;
  return sign + s;
}

} // namespace istio_csr::kube
