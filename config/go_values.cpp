#include "config/go_values.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

#include "caf/sec.hpp"

#include "config/go_duration.hpp"

namespace istio_csr::config {

namespace {

caf::error fail(std::string msg) {
  return caf::make_error(caf::sec::invalid_argument, std::move(msg));
}

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

caf::error num_error(std::string_view fn, std::string_view s,
                     std::string_view what) {
  std::string msg = "strconv.";
  msg += fn;
  msg += ": parsing ";
  msg += quoted(s);
  msg += ": ";
  msg += what;
  return fail(std::move(msg));
}

} // namespace

caf::expected<bool> parse_go_bool(std::string_view s) {
  if (s == "1" || s == "t" || s == "T" || s == "TRUE" || s == "true"
      || s == "True")
    return true;
  if (s == "0" || s == "f" || s == "F" || s == "FALSE" || s == "false"
      || s == "False")
    return false;
  return num_error("ParseBool", s, "invalid syntax");
}

namespace {

char lower(char c) {
  return static_cast<char>(c | 0x20);
}

// strconv.underscoreOK: underscores only between digits or after a prefix.
bool underscore_ok(std::string_view s) {
  char saw = '^';
  size_t i = 0;
  if (!s.empty() && (s[0] == '-' || s[0] == '+'))
    s.remove_prefix(1);
  bool hex = false;
  if (s.size() >= 2 && s[0] == '0'
      && (lower(s[1]) == 'b' || lower(s[1]) == 'o' || lower(s[1]) == 'x')) {
    i = 2;
    saw = '0';
    hex = lower(s[1]) == 'x';
  }
  for (; i < s.size(); ++i) {
    if ((s[i] >= '0' && s[i] <= '9')
        || (hex && lower(s[i]) >= 'a' && lower(s[i]) <= 'f')) {
      saw = '0';
      continue;
    }
    if (s[i] == '_') {
      if (saw != '0')
        return false;
      saw = '_';
      continue;
    }
    if (saw == '_')
      return false;
    saw = '!';
  }
  return saw != '_';
}

} // namespace

caf::expected<int64_t> parse_go_int(std::string_view s0, int bits) {
  auto s = s0;
  if (s.empty())
    return num_error("ParseInt", s0, "invalid syntax");
  bool neg = false;
  if (s[0] == '+' || s[0] == '-') {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty())
    return num_error("ParseInt", s0, "invalid syntax");
  unsigned base = 10;
  if (s[0] == '0') {
    if (s.size() >= 3 && lower(s[1]) == 'b')
      base = 2, s.remove_prefix(2);
    else if (s.size() >= 3 && lower(s[1]) == 'o')
      base = 8, s.remove_prefix(2);
    else if (s.size() >= 3 && lower(s[1]) == 'x')
      base = 16, s.remove_prefix(2);
    else
      base = 8, s.remove_prefix(1);
  }
  uint64_t n = 0;
  bool underscores = false;
  bool range = false;
  for (char c : s) {
    unsigned d = 0;
    if (c == '_') {
      underscores = true;
      continue;
    } else if (c >= '0' && c <= '9') {
      d = static_cast<unsigned>(c - '0');
    } else if (lower(c) >= 'a' && lower(c) <= 'z') {
      d = static_cast<unsigned>(lower(c) - 'a' + 10);
    } else {
      return num_error("ParseInt", s0, "invalid syntax");
    }
    if (d >= base)
      return num_error("ParseInt", s0, "invalid syntax");
    if (range)
      continue;
    if (n > (std::numeric_limits<uint64_t>::max() - d) / base)
      range = true;
    else
      n = n * base + d;
  }
  if (underscores && !underscore_ok(s0))
    return num_error("ParseInt", s0, "invalid syntax");
  uint64_t cutoff = uint64_t{1} << (bits - 1);
  if (range || (!neg && n >= cutoff) || (neg && n > cutoff))
    return num_error("ParseInt", s0, "value out of range");
  if (neg)
    return static_cast<int64_t>(~n + 1);
  return static_cast<int64_t>(n);
}

caf::expected<double> parse_go_float(std::string_view s) {
  auto orig = s;
  std::string_view body = s;
  bool neg = false;
  if (!body.empty() && (body.front() == '+' || body.front() == '-')) {
    neg = body.front() == '-';
    body.remove_prefix(1);
  }
  auto lower = std::string{body};
  for (auto& c : lower)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "inf" || lower == "infinity")
    return neg ? -std::numeric_limits<double>::infinity()
               : std::numeric_limits<double>::infinity();
  if (lower == "nan")
    return std::numeric_limits<double>::quiet_NaN();
  if (body.empty() || body.front() == '+' || body.front() == '-')
    return num_error("ParseFloat", orig, "invalid syntax");
  double value = 0;
  auto res = std::from_chars(body.data(), body.data() + body.size(), value,
                             std::chars_format::general);
  if (res.ec == std::errc::result_out_of_range)
    return num_error("ParseFloat", orig, "value out of range");
  if (res.ec != std::errc{} || res.ptr != body.data() + body.size())
    return num_error("ParseFloat", orig, "invalid syntax");
  return neg ? -value : value;
}

caf::expected<std::vector<std::string>> parse_csv_list(std::string_view s) {
  std::vector<std::string> out;
  if (s.empty())
    return out;
  size_t i = 0;
  auto csv_error = [&](size_t col, std::string_view what) {
    std::string msg = "parse error on line 1, column ";
    msg += std::to_string(col + 1);
    msg += ": ";
    msg += what;
    return fail(std::move(msg));
  };
  while (true) {
    std::string field;
    if (i < s.size() && s[i] == '"') {
      // Quoted field.
      ++i;
      while (true) {
        if (i >= s.size())
          return csv_error(i, "extraneous or missing \" in quoted-field");
        if (s[i] == '"') {
          if (i + 1 < s.size() && s[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field += s[i++];
      }
      if (i < s.size() && s[i] != ',')
        return csv_error(i, "extraneous or missing \" in quoted-field");
    } else {
      while (i < s.size() && s[i] != ',') {
        if (s[i] == '"')
          return csv_error(i, "bare \" in non-quoted-field");
        field += s[i++];
      }
    }
    out.emplace_back(std::move(field));
    if (i >= s.size())
      break;
    ++i; // the comma; a trailing comma yields a final empty field
    if (i == s.size()) {
      out.emplace_back();
      break;
    }
  }
  return out;
}

caf::expected<std::map<std::string, std::string>>
parse_string_map(std::string_view s) {
  std::vector<std::string> pairs;
  auto n = std::count(s.begin(), s.end(), '=');
  if (n == 0)
    return fail(std::string{s} + " must be formatted as key=value");
  if (n == 1) {
    // Go's strings.Trim(val, `"`).
    auto t = s;
    while (!t.empty() && t.front() == '"')
      t.remove_prefix(1);
    while (!t.empty() && t.back() == '"')
      t.remove_suffix(1);
    pairs.emplace_back(t);
  } else {
    auto rec = parse_csv_list(s);
    if (!rec)
      return std::move(rec.error());
    pairs = std::move(*rec);
  }
  std::map<std::string, std::string> out;
  for (auto& p : pairs) {
    auto eq = p.find('=');
    if (eq == std::string::npos)
      return fail(p + " must be formatted as key=value");
    out[p.substr(0, eq)] = p.substr(eq + 1);
  }
  return out;
}

caf::expected<std::chrono::nanoseconds> parse_kube_timeout(std::string_view s) {
  auto bad = [] {
    return fail("Invalid timeout value. Timeout must be a single integer in "
                "seconds, or an integer followed by a corresponding time unit "
                "(e.g. 1s | 2m | 3h)");
  };
  if (s.empty())
    return std::chrono::nanoseconds{0};
  // strconv.ParseInt(s, 10, 64): plain decimal seconds.
  bool all_digits = true;
  size_t start = (s.front() == '+' || s.front() == '-') ? 1 : 0;
  if (start == s.size())
    all_digits = false;
  for (size_t i = start; i < s.size(); ++i)
    if (s[i] < '0' || s[i] > '9')
      all_digits = false;
  if (all_digits) {
    auto v = parse_go_int(s);
    if (v && *v >= 0) {
      if (*v > std::numeric_limits<int64_t>::max() / 1000000000)
        return bad();
      return std::chrono::nanoseconds{*v * 1000000000};
    }
  }
  auto d = parse_go_duration(s);
  if (!d || d->count() < 0)
    return bad();
  return *d;
}

std::string format_list(const std::vector<std::string>& xs) {
  std::string out = "[";
  for (size_t i = 0; i < xs.size(); ++i) {
    if (i > 0)
      out += ',';
    out += xs[i];
  }
  out += ']';
  return out;
}

std::string format_map(const std::map<std::string, std::string>& xs) {
  std::string out = "[";
  bool first = true;
  for (auto& [k, v] : xs) {
    if (!first)
      out += ',';
    first = false;
    out += k;
    out += '=';
    out += v;
  }
  out += ']';
  return out;
}

} // namespace istio_csr::config
