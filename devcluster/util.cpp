#include "devcluster/util.hpp"

#include <cstdio>
#include <ctime>
#include <random>

namespace istio_csr::devcluster {

namespace {

std::mt19937_64& rng() {
  static thread_local std::mt19937_64 gen{std::random_device{}()};
  return gen;
}

std::tm to_utc(std::chrono::system_clock::time_point t) {
  auto secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return tm;
}

bool digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size())
    return false;
  out = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

} // namespace

std::string format_time(std::chrono::system_clock::time_point t) {
  auto tm = to_utc(t);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02dZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec);
  return buf;
}

std::string format_micro_time(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  auto tm = to_utc(t);
  auto us = duration_cast<microseconds>(t.time_since_epoch()).count() % 1000000;
  if (us < 0)
    us += 1000000;
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<long long>(us));
  return buf;
}

std::optional<std::chrono::system_clock::time_point>
parse_time(std::string_view s) {
  using namespace std::chrono;
  std::tm tm{};
  int year, mon, day, hour, min, sec;
  if (!digits(s, 0, 4, year) || s.size() < 20 || s[4] != '-'
      || !digits(s, 5, 2, mon) || s[7] != '-' || !digits(s, 8, 2, day)
      || (s[10] != 'T' && s[10] != 't') || !digits(s, 11, 2, hour)
      || s[13] != ':' || !digits(s, 14, 2, min) || s[16] != ':'
      || !digits(s, 17, 2, sec))
    return std::nullopt;
  if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59
      || sec > 60)
    return std::nullopt;
  size_t pos = 19;
  long long frac_ns = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    long long scale = 100000000;
    size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      frac_ns += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start || pos - start > 9)
      return std::nullopt;
  }
  long offset = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':'
        || !digits(s, pos + 4, 2, om))
      return std::nullopt;
    offset = (oh * 3600L + om * 60L) * (s[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size())
    return std::nullopt;
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  auto secs = timegm(&tm) - offset;
  return system_clock::time_point{duration_cast<system_clock::duration>(
    seconds{secs} + nanoseconds{frac_ns})};
}

std::string human_duration(std::chrono::seconds d) {
  // k8s.io/apimachinery/pkg/util/duration.HumanDuration
  long long s = d.count();
  if (s < 0)
    s = 0;
  auto str = [](long long v) { return std::to_string(v); };
  if (s < 120)
    return str(s) + "s";
  long long m = s / 60;
  if (m < 10) {
    long long rs = s % 60;
    return rs == 0 ? str(m) + "m" : str(m) + "m" + str(rs) + "s";
  }
  if (m < 180)
    return str(m) + "m";
  long long h = s / 3600;
  if (h < 8) {
    long long rm = (s / 60) % 60;
    return rm == 0 ? str(h) + "h" : str(h) + "h" + str(rm) + "m";
  }
  if (h < 48)
    return str(h) + "h";
  if (h < 24 * 8) {
    long long rh = h % 24;
    return rh == 0 ? str(h / 24) + "d" : str(h / 24) + "d" + str(rh) + "h";
  }
  if (h < 24 * 365 * 2)
    return str(h / 24) + "d";
  if (h < 24 * 365 * 8) {
    long long dy = (h / 24) % 365;
    return dy == 0 ? str(h / 24 / 365) + "y"
                   : str(h / 24 / 365) + "y" + str(dy) + "d";
  }
  return str(h / 24 / 365) + "y";
}

std::string new_uuid() {
  uint64_t hi = rng()(), lo = rng()();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  char buf[40];
  std::snprintf(
    buf, sizeof(buf), "%08x-%04x-%04x-%04x-%012llx",
    static_cast<unsigned>(hi >> 32), static_cast<unsigned>((hi >> 16) & 0xffff),
    static_cast<unsigned>(hi & 0xffff), static_cast<unsigned>(lo >> 48),
    static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return buf;
}

std::string random_name_suffix(size_t n) {
  static constexpr std::string_view alphabet = "bcdfghjklmnpqrstvwxz2456789";
  std::string out;
  for (size_t i = 0; i < n; ++i)
    out += alphabet[rng()() % alphabet.size()];
  return out;
}

std::string random_token(size_t n) {
  static constexpr std::string_view alphabet
    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device rd;
  std::string out;
  for (size_t i = 0; i < n; ++i)
    out += alphabet[rd() % alphabet.size()];
  return out;
}

std::string url_decode(std::string_view text, bool query) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9')
      return c - '0';
    if (c >= 'a' && c <= 'f')
      return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
      return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%' && i + 2 < text.size() && hex(text[i + 1]) >= 0
        && hex(text[i + 2]) >= 0) {
      out += static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2]));
      i += 2;
    } else if (c == '+' && query) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::map<std::string, std::string> parse_query(std::string_view query) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    auto amp = query.find('&');
    auto part = query.substr(0, amp);
    if (!part.empty()) {
      auto eq = part.find('=');
      if (eq == std::string_view::npos)
        out[url_decode(part, true)] = "";
      else
        out[url_decode(part.substr(0, eq), true)]
          = url_decode(part.substr(eq + 1), true);
    }
    if (amp == std::string_view::npos)
      break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

std::optional<uint64_t> parse_uint(std::string_view text) {
  if (text.empty() || text.size() > 19)
    return std::nullopt;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

} // namespace istio_csr::devcluster
