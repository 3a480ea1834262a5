#include "kube/api/time.hpp"

#include <cstdint>
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

// Writes the fraction v/10^prec into the tail of buf ending at w, omitting
// trailing zeros and the point when the fraction is 0.
size_t fmt_frac(char* buf, size_t w, uint64_t& v, int prec) {
  bool print = false;
  for (int i = 0; i < prec; ++i) {
    auto digit = v % 10;
    print = print || digit != 0;
    if (print)
      buf[--w] = static_cast<char>('0' + digit);
    v /= 10;
  }
  if (print)
    buf[--w] = '.';
  return w;
}

size_t fmt_int(char* buf, size_t w, uint64_t v) {
  if (v == 0) {
    buf[--w] = '0';
  } else {
    while (v > 0) {
      buf[--w] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
  }
  return w;
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
  // Go's time.Duration.String, digit by digit on the unsigned magnitude
  // (so the smallest duration, which has no positive counterpart, too).
  char buf[32];
  size_t w = sizeof(buf);
  auto count = d.count();
  bool neg = count < 0;
  uint64_t u = static_cast<uint64_t>(count);
  if (neg)
    u = ~u + 1;
  constexpr uint64_t second = 1000 * 1000 * 1000;
  if (u < second) {
    // Below one second use smaller units, like 1.2ms.
    int prec = 0;
    buf[--w] = 's';
    if (u == 0) {
      buf[--w] = '0';
      return std::string(buf + w, sizeof(buf) - w);
    } else if (u < 1000) {
      prec = 0;
      buf[--w] = 'n';
    } else if (u < 1000 * 1000) {
      prec = 3;
      // U+00B5 'µ' (micro sign) as UTF-8.
      buf[--w] = '\xB5';
      buf[--w] = '\xC2';
    } else {
      prec = 6;
      buf[--w] = 'm';
    }
    w = fmt_frac(buf, w, u, prec);
    w = fmt_int(buf, w, u);
  } else {
    buf[--w] = 's';
    w = fmt_frac(buf, w, u, 9);
    // u is now whole seconds.
    w = fmt_int(buf, w, u % 60);
    u /= 60;
    if (u > 0) {
      buf[--w] = 'm';
      w = fmt_int(buf, w, u % 60);
      u /= 60;
      if (u > 0) {
        buf[--w] = 'h';
        w = fmt_int(buf, w, u);
      }
    }
  }
  if (neg)
    buf[--w] = '-';
  return std::string(buf + w, sizeof(buf) - w);
}

} // namespace istio_csr::kube
