#include "tests/support/log_lines.hpp"

#include <regex>

#include <nlohmann/json.hpp>

namespace istio_csr::test {

const char* const klog_header_regex
  = R"(^([IWEF])(\d{4} \d{2}:\d{2}:\d{2}\.\d{6}) +(\d+) ([^ :\]]+:\d+)\] )";

namespace {

/// The length of the Go-quoted string at the start of `s` (quotes
/// included), or 0 if `s` does not start with one.
size_t quoted_length(std::string_view s) {
  if (s.empty() || s[0] != '"')
    return 0;
  for (size_t i = 1; i < s.size(); ++i) {
    if (s[i] == '\\')
      ++i;
    else if (s[i] == '"')
      return i + 1;
  }
  return 0;
}

} // namespace

std::optional<std::string> log_line::get(const std::string& key) const {
  auto i = fields.find(key);
  if (i == fields.end())
    return std::nullopt;
  return i->second;
}

std::optional<std::string> unquote(std::string_view q) {
  if (q.size() < 2 || q.front() != '"' || q.back() != '"')
    return std::nullopt;
  q = q.substr(1, q.size() - 2);
  std::string out;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9')
      return c - '0';
    if (c >= 'a' && c <= 'f')
      return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
      return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < q.size(); ++i) {
    char c = q[i];
    if (c == '"')
      return std::nullopt;
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i == q.size())
      return std::nullopt;
    switch (q[i]) {
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case 'x': {
        if (i + 2 >= q.size())
          return std::nullopt;
        int h = hex(q[i + 1]);
        int l = hex(q[i + 2]);
        if (h < 0 || l < 0)
          return std::nullopt;
        out += static_cast<char>(h * 16 + l);
        i += 2;
        break;
      }
      default: return std::nullopt;
    }
  }
  return out;
}

std::optional<log_line> parse_text_line(std::string_view text) {
  if (!text.empty() && text.back() == '\n')
    text.remove_suffix(1);
  // The header by the regex (short and bounded); the quoted message and the
  // key="value" pairs by a scanner (std::regex recurses per character).
  static const std::regex header_re{klog_header_regex};
  std::cmatch m;
  if (!std::regex_search(text.data(), text.data() + text.size(), m, header_re,
                         std::regex_constants::match_continuous))
    return std::nullopt;
  log_line out;
  out.severity = m[1].str()[0];
  out.time = m[2].str();
  out.pid = std::stoi(m[3].str());
  out.caller = m[4].str();
  auto rest = text.substr(static_cast<size_t>(m.length(0)));
  auto n = quoted_length(rest);
  if (n == 0)
    return std::nullopt;
  auto msg = unquote(rest.substr(0, n));
  if (!msg)
    return std::nullopt;
  out.msg = *msg;
  rest.remove_prefix(n);
  while (!rest.empty()) {
    // ' key="value"'
    if (rest[0] != ' ')
      return std::nullopt;
    rest.remove_prefix(1);
    auto eq = rest.find('=');
    if (eq == 0 || eq == std::string_view::npos)
      return std::nullopt;
    auto key = rest.substr(0, eq);
    if (key.find_first_of(" \"") != std::string_view::npos)
      return std::nullopt;
    rest.remove_prefix(eq + 1);
    n = quoted_length(rest);
    if (n == 0)
      return std::nullopt;
    auto v = unquote(rest.substr(0, n));
    if (!v)
      return std::nullopt;
    out.keys.emplace_back(key);
    out.fields[std::string{key}] = *v;
    rest.remove_prefix(n);
  }
  return out;
}

std::optional<log_line> parse_json_line(std::string_view text) {
  auto obj = nlohmann::ordered_json::parse(text, nullptr, false);
  if (obj.is_discarded() || !obj.is_object())
    return std::nullopt;
  log_line out;
  for (auto& [k, v] : obj.items()) {
    if (k == "ts") {
      if (!v.is_number())
        return std::nullopt;
      out.ts = v.get<double>();
    } else if (k == "v") {
      if (!v.is_number_integer())
        return std::nullopt;
      out.v = v.get<int>();
    } else if (!v.is_string()) {
      return std::nullopt;
    } else if (k == "caller") {
      out.caller = v.get<std::string>();
    } else if (k == "msg") {
      out.msg = v.get<std::string>();
    } else {
      out.keys.push_back(k);
      out.fields[k] = v.get<std::string>();
    }
  }
  if (!obj.contains("ts") || !obj.contains("caller") || !obj.contains("msg"))
    return std::nullopt;
  out.severity = out.v ? 'I' : 'E';
  return out;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    auto nl = text.find('\n', start);
    if (nl == std::string::npos) {
      out.push_back(text.substr(start));
      break;
    }
    out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

} // namespace istio_csr::test
