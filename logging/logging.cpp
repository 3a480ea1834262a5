#include "logging/logging.hpp"

#include <cstdio>
#include <ctime>
#include <map>
#include <mutex>

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

std::string rfc3339_millis(spdlog::log_clock::time_point tp) {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(tp.time_since_epoch()).count();
  auto secs = static_cast<std::time_t>(ms / 1000);
  auto frac = static_cast<int>(ms % 1000);
  if (frac < 0) {
    frac += 1000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[80];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, frac);
  return buf;
}

std::string_view level_name(spdlog::level::level_enum lvl) {
  switch (lvl) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "critical";
    default: return "off";
  }
}

std::string_view level_tag(spdlog::level::level_enum lvl) {
  switch (lvl) {
    case spdlog::level::trace: return "TRACE";
    case spdlog::level::debug: return "DEBUG";
    case spdlog::level::info: return "INFO";
    case spdlog::level::warn: return "WARN";
    case spdlog::level::err: return "ERROR";
    case spdlog::level::critical: return "CRITICAL";
    default: return "OFF";
  }
}

// Keeps a text line on one line: control characters are escaped; with
// `quotes`, also '"' and '\'.
void append_escaped(std::string& out, std::string_view s, bool quotes) {
  static constexpr char hex[] = "0123456789abcdef";
  for (unsigned char c : s) {
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '"':
      case '\\':
        if (quotes)
          out += '\\';
        out += static_cast<char>(c);
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\x";
          out += hex[c >> 4];
          out += hex[c & 0xf];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
}

std::string format_text(const spdlog::details::log_msg& msg, const decoded& d) {
  std::string out = rfc3339_millis(msg.time);
  out += ' ';
  out += level_tag(msg.level);
  out += " [";
  append_escaped(out, {msg.logger_name.data(), msg.logger_name.size()}, false);
  out += "] ";
  append_escaped(out, d.msg, false);
  for (auto& [k, v] : d.fields) {
    out += ' ';
    append_escaped(out, k, false);
    out += "=\"";
    append_escaped(out, v, true);
    out += '"';
  }
  out += '\n';
  return out;
}

std::string format_json(const spdlog::details::log_msg& msg, const decoded& d) {
  nlohmann::ordered_json obj;
  obj["time"] = rfc3339_millis(msg.time);
  obj["level"] = level_name(msg.level);
  obj["logger"] = std::string{msg.logger_name.data(), msg.logger_name.size()};
  obj["msg"] = std::string{d.msg};
  for (auto& [k, v] : d.fields) {
    std::string key{k};
    // Never let a field overwrite the line's own members.
    if (key == "time" || key == "level" || key == "logger" || key == "msg")
      key = "field." + key;
    obj[key] = std::string{v};
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
         std::string_view msg, std::initializer_list<field> fields) {
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
  logger.log(level, spdlog::string_view_t{payload.data(), payload.size()});
}

} // namespace istio_csr::logging
