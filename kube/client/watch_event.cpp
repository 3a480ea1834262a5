#include "kube/client/watch_event.hpp"

#include "kube/api/errc.hpp"

namespace istio_csr::kube {

std::string to_string(watch_event_type t) {
  switch (t) {
    case watch_event_type::added: return "ADDED";
    case watch_event_type::modified: return "MODIFIED";
    case watch_event_type::deleted: return "DELETED";
    case watch_event_type::bookmark: return "BOOKMARK";
    case watch_event_type::error: return "ERROR";
  }
  return "?";
}

caf::error watch_decoder::emit(std::string_view text,
                               std::vector<watch_event>& out) {
  auto doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    return make_error(errc::decode_error, "watch: malformed event");
  auto type = doc.find("type");
  auto object = doc.find("object");
  if (type == doc.end() || !type->is_string() || object == doc.end())
    return make_error(errc::decode_error,
                      "watch: event without type or object");
  auto& name = type->get_ref<const std::string&>();
  watch_event ev;
  if (name == "ADDED")
    ev.type = watch_event_type::added;
  else if (name == "MODIFIED")
    ev.type = watch_event_type::modified;
  else if (name == "DELETED")
    ev.type = watch_event_type::deleted;
  else if (name == "BOOKMARK")
    ev.type = watch_event_type::bookmark;
  else if (name == "ERROR")
    ev.type = watch_event_type::error;
  else
    return make_error(errc::decode_error,
                      "watch: unknown event type \"" + name + "\"");
  ev.object = std::move(*object);
  out.push_back(std::move(ev));
  return {};
}

caf::error watch_decoder::feed(std::string_view bytes,
                               std::vector<watch_event>& out) {
  if (failed_)
    return make_error(errc::decode_error, "watch: decoder already failed");
  auto fail = [this](std::string msg) {
    failed_ = true;
    return make_error(errc::decode_error, std::move(msg));
  };
  size_t start = 0; // start of the current object within buf_
  buf_.append(bytes);
  size_t i = scan_;
  for (; i < buf_.size(); ++i) {
    char c = buf_[i];
    if (depth_ == 0) {
      // Between objects: skip whitespace, expect '{'.
      if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
        if (start == i)
          ++start;
        continue;
      }
      if (c != '{')
        return fail("watch: unexpected character between events");
      start = i;
      depth_ = 1;
      continue;
    }
    if (in_string_) {
      if (escaped_)
        escaped_ = false;
      else if (c == '\\')
        escaped_ = true;
      else if (c == '"')
        in_string_ = false;
      continue;
    }
    switch (c) {
      case '"': in_string_ = true; break;
      case '{':
      case '[': ++depth_; break;
      case '}':
      case ']':
        if (--depth_ == 0) {
          auto text = std::string_view{buf_}.substr(start, i + 1 - start);
          if (auto err = emit(text, out)) {
            failed_ = true;
            return err;
          }
          start = i + 1;
        }
        break;
      default: break;
    }
  }
  // Keep only the incomplete object.
  buf_.erase(0, start);
  scan_ = i - start;
  if (buf_.size() > max_event_size)
    return fail("watch: event larger than "
                + std::to_string(max_event_size / (1024 * 1024)) + " MiB");
  return {};
}

caf::error watch_decoder::finish() const {
  if (failed_)
    return make_error(errc::decode_error, "watch: malformed stream");
  if (depth_ != 0)
    return make_error(errc::decode_error,
                      "watch: stream ended inside an event");
  return {};
}

} // namespace istio_csr::kube
