#include "logging/logging.hpp"
#include "logging/format.hpp"

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <mutex>
#include <optional>

#include <unistd.h>

#include <nlohmann/json.hpp>
#include <spdlog/sinks/sink.h>

namespace istio_csr::logging {

namespace {

// Fields travel inside the spdlog payload: the message, then this marker,
// then length-prefixed key/value pairs. A payload without the marker (a
// plain spdlog call) is just a message.
constexpr std::string_view field_marker{"\0\x01", 2};

void append_sized(std::string& out, std::string_view s) {
  out += std::to_string(s.size());
  out += ':';
  out += s;
}

bool read_sized(std::string_view& in, std::string_view& out) {
  auto colon = in.find(':');
  if (colon == std::string_view::npos)
    return false;
  size_t n = 0;
  for (size_t i = 0; i < colon; ++i) {
    if (in[i] < '0' || in[i] > '9')
      return false;
    n = n * 10 + static_cast<size_t>(in[i] - '0');
  }
  in.remove_prefix(colon + 1);
  if (n > in.size())
    return false;
  out = in.substr(0, n);
  in.remove_prefix(n);
  return true;
}

struct decoded {
  std::string_view msg;
  std::vector<std::pair<std::string_view, std::string_view>> fields;
};

decoded decode(std::string_view payload) {
  decoded d;
  auto pos = payload.find(field_marker);
  if (pos == std::string_view::npos) {
    d.msg = payload;
    return d;
  }
  d.msg = payload.substr(0, pos);
  auto rest = payload.substr(pos + field_marker.size());
  while (!rest.empty()) {
    std::string_view k;
    std::string_view v;
    if (!read_sized(rest, k) || !read_sized(rest, v))
      break;
    d.fields.emplace_back(k, v);
  }
  return d;
}

/// The parts of a time point both formats print.
struct clock_parts {
  std::tm local{}; // klog prints local time (UTC in a container)
  std::time_t secs = 0;
  int micros = 0;
};

clock_parts split(spdlog::log_clock::time_point tp) {
  using namespace std::chrono;
  auto us = duration_cast<microseconds>(tp.time_since_epoch()).count();
  clock_parts p;
  p.secs = static_cast<std::time_t>(us / 1'000'000);
  p.micros = static_cast<int>(us % 1'000'000);
  if (p.micros < 0) {
    p.micros += 1'000'000;
    --p.secs;
  }
  localtime_r(&p.secs, &p.local);
  return p;
}

/// klog's severity letter: debug and trace lines are verbose info lines.
char severity_letter(spdlog::level::level_enum lvl) {
  switch (lvl) {
    case spdlog::level::warn: return 'W';
    case spdlog::level::err:
    case spdlog::level::critical: return 'E';
    default: return 'I';
  }
}

/// component-base's `v` of an info line; nullopt for an error line (which
/// has no `v`). Warnings are info lines at verbosity 0, as klog's JSON shows
/// them.
std::optional<int> verbosity_of(spdlog::level::level_enum lvl) {
  switch (lvl) {
    case spdlog::level::trace: return 3;
    case spdlog::level::debug: return 2;
    case spdlog::level::err:
    case spdlog::level::critical: return std::nullopt;
    default: return 0;
  }
}

/// The file name without directories (klog's text caller), or with its
/// last directory when `with_dir` (zap's short caller, component-base JSON).
std::string_view short_file(std::string_view path, bool with_dir) {
  auto slash = path.rfind('/');
  if (slash == std::string_view::npos)
    return path;
  if (!with_dir)
    return path.substr(slash + 1);
  auto dir = slash == 0 ? std::string_view::npos : path.rfind('/', slash - 1);
  return dir == std::string_view::npos ? path : path.substr(dir + 1);
}

std::string caller_of(const spdlog::details::log_msg& msg, bool with_dir) {
  if (msg.source.empty())
    return "???:1"; // klog's caller when it has none
  std::string out{short_file(msg.source.filename, with_dir)};
  out += ':';
  out += std::to_string(msg.source.line);
  return out;
}

/// The length of the UTF-8 sequence starting at `s[i]`, or 0 if it is not a
/// valid one.
size_t utf8_length(std::string_view s, size_t i) {
  auto c = static_cast<unsigned char>(s[i]);
  size_t n = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
  if (c >= 0xf8 || n == 0 || i + n > s.size())
    return 0;
  for (size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80)
      return 0;
  return n;
}

} // namespace

void append_quoted(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      if (auto n = utf8_length(s, i); n > 0) {
        out.append(s.substr(i, n));
        i += n;
        continue;
      }
    }
    ++i;
    switch (c) {
      case '\a': out += "\\a"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\v': out += "\\v"; break;
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      default:
        if (c < 0x20 || c >= 0x7f) {
          out += "\\x";
          out += hex[c >> 4];
          out += hex[c & 0xf];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

std::string quoted(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  append_quoted(out, s);
  return out;
}

std::string redact(std::string_view value) {
  if (value.find("PRIVATE KEY-----") != std::string_view::npos)
    return "[redacted: private key]";
  std::string out;
  size_t done = 0;
  auto b64url = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
           || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '=';
  };
  for (auto pos = value.find("eyJ"); pos != std::string_view::npos;
       pos = value.find("eyJ", pos + 1)) {
    if (pos < done)
      continue;
    // header.payload.signature, each base64url.
    size_t i = pos;
    int dots = 0;
    size_t segment = 0;
    bool ok = true;
    while (i < value.size() && (b64url(value[i]) || value[i] == '.')) {
      if (value[i] == '.') {
        if (segment == 0) {
          ok = false;
          break;
        }
        ++dots;
        segment = 0;
      } else {
        ++segment;
      }
      ++i;
    }
    if (!ok || dots != 2 || segment == 0)
      continue;
    out.append(value.substr(done, pos - done));
    out += "[redacted: token]";
    done = i;
  }
  if (done == 0)
    return std::string{value};
  out.append(value.substr(done));
  return out;
}

namespace {

std::string format_text(const spdlog::details::log_msg& msg, const decoded& d) {
  auto t = split(msg.time);
  char head[64];
  std::snprintf(head, sizeof(head), "%c%02d%02d %02d:%02d:%02d.%06d %7d ",
                severity_letter(msg.level), t.local.tm_mon + 1, t.local.tm_mday,
                t.local.tm_hour, t.local.tm_min, t.local.tm_sec, t.micros,
                static_cast<int>(::getpid()));
  std::string out = head;
  out += caller_of(msg, false);
  out += "] ";
  append_quoted(out, redact(d.msg));
  auto append_field = [&](std::string_view k, std::string_view v) {
    out += ' ';
    // Keys are written bare, as klog does: keep them one token.
    for (unsigned char c : k)
      out += c > 0x20 && c < 0x7f && c != '=' && c != '"' ? static_cast<char>(c)
                                                          : '_';
    out += '=';
    append_quoted(out, redact(v));
  };
  for (auto& [k, v] : d.fields)
    if (k == "err")
      append_field(k, v);
  for (auto& [k, v] : d.fields)
    if (k != "err")
      append_field(k, v);
  if (msg.logger_name.size() > 0)
    append_field("logger", {msg.logger_name.data(), msg.logger_name.size()});
  out += '\n';
  return out;
}

std::string format_json(const spdlog::details::log_msg& msg, const decoded& d) {
  auto t = split(msg.time);
  // Epoch seconds with microseconds; strtod of the decimal text makes the
  // shortest round-trip output print exactly these digits.
  char ts[48];
  std::snprintf(ts, sizeof(ts), "%lld.%06d", static_cast<long long>(t.secs),
                t.micros);
  nlohmann::ordered_json obj;
  obj["ts"] = std::strtod(ts, nullptr);
  obj["caller"] = caller_of(msg, true);
  obj["msg"] = redact(d.msg);
  if (auto v = verbosity_of(msg.level))
    obj["v"] = *v;
  if (msg.logger_name.size() > 0)
    obj["logger"] = std::string{msg.logger_name.data(), msg.logger_name.size()};
  for (auto& [k, v] : d.fields)
    if (k == "err")
      obj["err"] = redact(v);
  for (auto& [k, v] : d.fields) {
    if (k == "err")
      continue;
    std::string key{k};
    // Never let a field overwrite the line's own members.
    if (key == "ts" || key == "caller" || key == "msg" || key == "v"
        || key == "logger")
      key = "field." + key;
    obj[key] = redact(v);
  }
  // Invalid UTF-8 is replaced rather than throwing from a log call.
  auto out = obj.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  out += '\n';
  return out;
}

/// The one sink of every logger: formats with the current settings and
/// writes to stderr or the test writer. spdlog's own formatter is ignored.
class router_sink final : public spdlog::sinks::sink {
 public:
  void log(const spdlog::details::log_msg& msg) override {
    auto d = decode({msg.payload.data(), msg.payload.size()});
    std::lock_guard<std::mutex> guard{mtx_};
    auto line
      = fmt_ == format::json ? format_json(msg, d) : format_text(msg, d);
    if (writer_) {
      writer_(line);
    } else {
      std::fwrite(line.data(), 1, line.size(), stderr);
      std::fflush(stderr);
    }
  }

  void flush() override {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!writer_)
      std::fflush(stderr);
  }

  void set_pattern(const std::string&) override {
    // The format is ours (text or JSON).
  }

  void set_formatter(std::unique_ptr<spdlog::formatter>) override {
    // The format is ours (text or JSON).
  }

  void set_format(format f) {
    std::lock_guard<std::mutex> guard{mtx_};
    fmt_ = f;
  }

  void set_writer(line_writer w) {
    std::lock_guard<std::mutex> guard{mtx_};
    writer_ = std::move(w);
  }

 private:
  std::mutex mtx_;
  format fmt_ = format::text;
  line_writer writer_;
};

struct state {
  std::mutex mtx;
  std::shared_ptr<router_sink> sink = std::make_shared<router_sink>();
  spdlog::level::level_enum level = spdlog::level::info;
  std::map<std::string, std::shared_ptr<spdlog::logger>> loggers;
};

state& global() {
  // Never destroyed: loggers may be used from static destructors and from
  // threads that outlive main().
  static auto* st = new state;
  return *st;
}

} // namespace

spdlog::level::level_enum level_for(int verbosity) noexcept {
  if (verbosity <= 1)
    return spdlog::level::info;
  if (verbosity == 2)
    return spdlog::level::debug;
  return spdlog::level::trace;
}

void init(const settings& cfg) {
  auto& st = global();
  std::lock_guard<std::mutex> guard{st.mtx};
  st.sink->set_format(cfg.output);
  st.level = level_for(cfg.verbosity);
  for (auto& [name, lg] : st.loggers)
    lg->set_level(st.level);
  // Plain spdlog::info(...) calls go through the same sink.
  auto def = std::make_shared<spdlog::logger>("istio-csr", st.sink);
  def->set_level(st.level);
  spdlog::set_default_logger(std::move(def));
}

std::shared_ptr<spdlog::logger> get(const std::string& name) {
  auto& st = global();
  std::lock_guard<std::mutex> guard{st.mtx};
  auto& lg = st.loggers[name];
  if (!lg) {
    lg = std::make_shared<spdlog::logger>(name, st.sink);
    lg->set_level(st.level);
  }
  return lg;
}

void set_writer_for_testing(line_writer writer) {
  global().sink->set_writer(std::move(writer));
}

void log(spdlog::logger& logger, spdlog::level::level_enum level,
         std::string_view msg, std::initializer_list<field> fields,
         call_site where) {
  if (!logger.should_log(level))
    return;
  std::string payload;
  payload.reserve(msg.size() + 32 * fields.size());
  if (msg.find('\0') == std::string_view::npos) {
    payload.append(msg);
  } else {
    // Keep the marker unambiguous.
    for (char c : msg)
      payload += c == '\0' ? ' ' : c;
  }
  if (fields.size() > 0) {
    payload.append(field_marker);
    for (auto& f : fields) {
      append_sized(payload, f.key);
      append_sized(payload, f.value);
    }
  }
  logger.log(spdlog::source_loc{where.file, static_cast<int>(where.line),
                                where.function},
             level, spdlog::string_view_t{payload.data(), payload.size()});
}

} // namespace istio_csr::logging
