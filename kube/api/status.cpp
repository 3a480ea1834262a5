#include "kube/api/status.hpp"

#include "kube/api/errc.hpp"
#include "kube/api/object.hpp"

namespace istio_csr::kube {

bool status_view::is_status() const {
  return string_at(*obj_, {"kind"}) == "Status";
}

const std::string& status_view::status() const {
  return string_at(*obj_, {"status"});
}

int status_view::code() const {
  auto member = member_at(*obj_, {"code"});
  if (member == nullptr || !member->is_number_integer())
    return 0;
  return member->get<int>();
}

const std::string& status_view::reason() const {
  return string_at(*obj_, {"reason"});
}

const std::string& status_view::message() const {
  return string_at(*obj_, {"message"});
}

const std::string& status_view::details_name() const {
  return string_at(*obj_, {"details", "name"});
}

const std::string& status_view::details_kind() const {
  return string_at(*obj_, {"details", "kind"});
}

std::vector<status_view::cause> status_view::causes() const {
  std::vector<cause> result;
  auto member = member_at(*obj_, {"details", "causes"});
  if (member == nullptr || !member->is_array())
    return result;
  for (auto& c : *member)
    result.push_back(cause{string_at(c, {"reason"}), string_at(c, {"message"}),
                           string_at(c, {"field"})});
  return result;
}

std::optional<int> status_view::retry_after_seconds() const {
  auto member = member_at(*obj_, {"details", "retryAfterSeconds"});
  if (member == nullptr || !member->is_number_integer())
    return std::nullopt;
  auto value = member->get<int>();
  if (value <= 0)
    return std::nullopt;
  return value;
}

namespace {

std::optional<errc> errc_of_reason(std::string_view reason) {
  if (reason == "NotFound")
    return errc::not_found;
  if (reason == "AlreadyExists")
    return errc::already_exists;
  if (reason == "Conflict")
    return errc::conflict;
  if (reason == "Gone" || reason == "Expired")
    return errc::gone;
  if (reason == "Invalid")
    return errc::invalid;
  if (reason == "BadRequest" || reason == "MethodNotAllowed"
      || reason == "NotAcceptable" || reason == "UnsupportedMediaType"
      || reason == "RequestEntityTooLarge")
    return errc::bad_request;
  if (reason == "Unauthorized")
    return errc::unauthorized;
  if (reason == "Forbidden")
    return errc::forbidden;
  if (reason == "TooManyRequests")
    return errc::too_many_requests;
  if (reason == "Timeout" || reason == "ServerTimeout")
    return errc::timeout;
  if (reason == "InternalError" || reason == "ServiceUnavailable")
    return errc::server_error;
  return std::nullopt;
}

errc errc_of_code(int code) {
  switch (code) {
    case 400: return errc::bad_request;
    case 401: return errc::unauthorized;
    case 403: return errc::forbidden;
    case 404: return errc::not_found;
    case 409: return errc::conflict;
    case 410: return errc::gone;
    case 422: return errc::invalid;
    case 429: return errc::too_many_requests;
    case 504: return errc::timeout;
    default:
      if (code >= 500)
        return errc::server_error;
      return errc::bad_request;
  }
}

std::string truncated(std::string_view text, size_t max_size = 256) {
  if (text.size() <= max_size)
    return std::string{text};
  std::string result{text.substr(0, max_size)};
  result += "...";
  return result;
}

} // namespace

caf::error error_from_status(int http_status, const nlohmann::json& body,
                             std::string_view raw_body) {
  status_view st{body};
  // Some proxies drop `kind`; a `code` plus `reason` is still a Status.
  if (body.is_object()
      && (st.is_status()
          || (body.contains("code") && body.contains("reason")))) {
    auto code = errc_of_reason(st.reason());
    if (!code) {
      auto status_code = st.code() != 0 ? st.code() : http_status;
      code = errc_of_code(status_code);
    }
    auto msg = st.message();
    if (msg.empty()) {
      msg = "the server responded with HTTP " + std::to_string(http_status);
      if (!st.reason().empty())
        msg += " (" + st.reason() + ")";
    }
    return make_error(*code, std::move(msg));
  }
  auto msg = "the server responded with HTTP " + std::to_string(http_status);
  if (!raw_body.empty()) {
    msg += ": ";
    msg += truncated(raw_body);
  }
  return make_error(errc_of_code(http_status), std::move(msg));
}

caf::error error_from_status(const nlohmann::json& status) {
  status_view st{status};
  return error_from_status(st.code() != 0 ? st.code() : 500, status);
}

} // namespace istio_csr::kube
