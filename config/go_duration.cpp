#include "config/go_duration.hpp"

#include <cstdint>

#include "caf/sec.hpp"

#include "kube/api/time.hpp"

namespace istio_csr::config {

namespace {

constexpr uint64_t one_shl_63 = uint64_t{1} << 63;

caf::error go_error(std::string msg) {
  return caf::make_error(caf::sec::invalid_argument, std::move(msg));
}

// Go's time.quote: non-ASCII and control bytes as \xNN.
std::string quote(std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c >= 0x80 || c < ' ') {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 0xf];
    } else {
      if (c == '"' || c == '\\')
        out += '\\';
      out += static_cast<char>(c);
    }
  }
  out += '"';
  return out;
}

caf::error invalid(std::string_view orig) {
  return go_error("time: invalid duration " + quote(orig));
}

// Consumes the leading [0-9]*; false on overflow.
bool leading_int(std::string_view& s, uint64_t& x) {
  x = 0;
  size_t i = 0;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c < '0' || c > '9')
      break;
    if (x > one_shl_63 / 10)
      return false;
    x = x * 10 + static_cast<uint64_t>(c - '0');
    if (x > one_shl_63)
      return false;
  }
  s.remove_prefix(i);
  return true;
}

// Consumes the leading [0-9]* of a fraction; digits beyond the precision of
// uint64 are dropped, as Go does.
void leading_fraction(std::string_view& s, uint64_t& x, double& scale) {
  x = 0;
  scale = 1;
  bool overflow = false;
  size_t i = 0;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c < '0' || c > '9')
      break;
    if (overflow)
      continue;
    if (x > (one_shl_63 - 1) / 10) {
      overflow = true;
      continue;
    }
    uint64_t y = x * 10 + static_cast<uint64_t>(c - '0');
    if (y > one_shl_63) {
      overflow = true;
      continue;
    }
    x = y;
    scale *= 10;
  }
  s.remove_prefix(i);
}

uint64_t unit_of(std::string_view u) {
  if (u == "ns")
    return 1;
  if (u == "us"
      || u == "\xC2\xB5s" /* U+00B5 */ || u == "\xCE\xBCs" /* U+03BC */)
    return 1000;
  if (u == "ms")
    return 1000 * 1000;
  if (u == "s")
    return 1000 * 1000 * 1000;
  if (u == "m")
    return uint64_t{60} * 1000 * 1000 * 1000;
  if (u == "h")
    return uint64_t{3600} * 1000 * 1000 * 1000;
  return 0;
}

} // namespace

caf::expected<std::chrono::nanoseconds> parse_go_duration(std::string_view s) {
  // [-+]?([0-9]*(\.[0-9]*)?[a-z]+)+
  auto orig = s;
  uint64_t d = 0;
  bool neg = false;
  if (!s.empty() && (s.front() == '-' || s.front() == '+')) {
    neg = s.front() == '-';
    s.remove_prefix(1);
  }
  if (s == "0")
    return std::chrono::nanoseconds{0};
  if (s.empty())
    return invalid(orig);
  while (!s.empty()) {
    uint64_t v = 0;
    uint64_t f = 0;
    double scale = 1;
    if (!(s.front() == '.' || (s.front() >= '0' && s.front() <= '9')))
      return invalid(orig);
    auto pl = s.size();
    if (!leading_int(s, v))
      return invalid(orig);
    bool pre = pl != s.size();
    bool post = false;
    if (!s.empty() && s.front() == '.') {
      s.remove_prefix(1);
      auto pl2 = s.size();
      leading_fraction(s, f, scale);
      post = pl2 != s.size();
    }
    if (!pre && !post)
      return invalid(orig);
    size_t i = 0;
    for (; i < s.size(); ++i) {
      char c = s[i];
      if (c == '.' || (c >= '0' && c <= '9'))
        break;
    }
    if (i == 0)
      return go_error("time: missing unit in duration " + quote(orig));
    auto u = s.substr(0, i);
    s.remove_prefix(i);
    auto unit = unit_of(u);
    if (unit == 0)
      return go_error("time: unknown unit " + quote(u) + " in duration "
                      + quote(orig));
    if (v > one_shl_63 / unit)
      return invalid(orig);
    v *= unit;
    if (f > 0) {
      // A double is precise enough for fractions of hours to the nanosecond.
      v += static_cast<uint64_t>(static_cast<double>(f)
                                 * (static_cast<double>(unit) / scale));
      if (v > one_shl_63)
        return invalid(orig);
    }
    d += v;
    if (d > one_shl_63)
      return invalid(orig);
  }
  if (neg) {
    // -(1<<63) is representable; compute in unsigned to avoid overflow.
    return std::chrono::nanoseconds{static_cast<int64_t>(~d + 1)};
  }
  if (d > one_shl_63 - 1)
    return invalid(orig);
  return std::chrono::nanoseconds{static_cast<int64_t>(d)};
}

std::string format_go_duration(std::chrono::nanoseconds d) {
  return kube::format_go_duration(d);
}

} // namespace istio_csr::config
