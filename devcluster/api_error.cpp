#include "devcluster/api_error.hpp"

#include "devcluster/util.hpp"

namespace istio_csr::devcluster {

http_response api_error::to_response() const {
  http_response r;
  r.status = code;
  if (plain_text) {
    r.body = *plain_text;
    r.content_type = "text/plain; charset=utf-8";
  } else {
    r.body = status.dump();
  }
  r.headers = headers;
  return r;
}

namespace errors {

api_error make(unsigned code, const std::string& reason,
               const std::string& message, nlohmann::json details) {
  api_error e;
  e.code = code;
  auto& s = e.status;
  s["kind"] = "Status";
  s["apiVersion"] = "v1";
  s["metadata"] = nlohmann::json::object();
  s["status"] = "Failure";
  if (!message.empty())
    s["message"] = message;
  if (!reason.empty())
    s["reason"] = reason;
  if (!details.is_null())
    s["details"] = std::move(details);
  s["code"] = code;
  return e;
}

nlohmann::json details(const std::string& group, const std::string& kind,
                       const std::string& name) {
  auto d = nlohmann::json::object();
  if (!name.empty())
    d["name"] = name;
  if (!group.empty())
    d["group"] = group;
  if (!kind.empty())
    d["kind"] = kind;
  return d;
}

api_error not_found(const resource_type& t, const std::string& name) {
  return not_found(t.group, t.resource, name);
}

api_error not_found(const std::string& group, const std::string& resource,
                    const std::string& name) {
  auto gr = group.empty() ? resource : resource + "." + group;
  return make(404, "NotFound", gr + " " + go_quote(name) + " not found",
              details(group, resource, name));
}

api_error page_not_found() {
  api_error e;
  e.code = 404;
  e.plain_text = "404 page not found\n";
  return e;
}

api_error path_not_found() {
  return make(404, "NotFound",
              "the server could not find the requested resource",
              nlohmann::json::object());
}

api_error already_exists(const resource_type& t, const std::string& name) {
  return make(409, "AlreadyExists",
              t.group_resource() + " " + go_quote(name) + " already exists",
              details(t.group, t.resource, name));
}

api_error conflict(const std::string& group, const std::string& resource,
                   const std::string& name, const std::string& why) {
  auto gr = group.empty() ? resource : resource + "." + group;
  return make(409, "Conflict",
              "Operation cannot be fulfilled on " + gr + " " + go_quote(name)
                + ": " + why,
              details(group, resource, name));
}

api_error conflict_modified(const resource_type& t, const std::string& name) {
  return conflict(t.group, t.resource, name,
                  "the object has been modified; please apply your changes to "
                  "the latest version and try again");
}

api_error invalid(const resource_type& t, const std::string& name,
                  const std::vector<field_cause>& causes) {
  auto d = details(t.group, t.kind, name);
  auto arr = nlohmann::json::array();
  std::vector<std::string> texts;
  for (auto& c : causes) {
    nlohmann::json j;
    j["reason"] = c.type;
    j["message"] = c.message;
    j["field"] = c.field;
    arr.push_back(std::move(j));
    texts.push_back(c.field + ": " + c.message);
  }
  d["causes"] = std::move(arr);
  std::string msg = t.group_kind() + " " + go_quote(name) + " is invalid";
  if (texts.size() == 1) {
    msg += ": " + texts[0];
  } else if (texts.size() > 1) {
    msg += ": [";
    for (size_t i = 0; i < texts.size(); ++i)
      msg += (i ? ", " : "") + texts[i];
    msg += "]";
  }
  return make(422, "Invalid", msg, std::move(d));
}

api_error bad_request(const std::string& message) {
  return make(400, "BadRequest", message);
}

api_error forbidden(const std::string& message, nlohmann::json details) {
  return make(403, "Forbidden", message,
              details.is_null() ? nlohmann::json::object()
                                : std::move(details));
}

api_error unauthorized() {
  return make(401, "Unauthorized", "Unauthorized");
}

api_error method_not_allowed() {
  return make(405, "MethodNotAllowed",
              "the server does not allow this method on the requested resource",
              nlohmann::json::object());
}

api_error unsupported_media_type(const std::string& accepted) {
  return make(415, "UnsupportedMediaType",
              "the body of the request was in an unknown format - accepted "
              "media types include: "
                + accepted,
              nlohmann::json::object());
}

api_error not_acceptable(const std::string& accept) {
  return make(406, "NotAcceptable",
              "only the following media types are accepted: application/json, "
              "application/yaml (requested: "
                + accept + ")");
}

api_error internal(const std::string& message) {
  auto d = nlohmann::json::object();
  d["causes"] = nlohmann::json::array({{{"message", message}}});
  return make(500, "InternalError", "Internal error occurred: " + message,
              std::move(d));
}

api_error too_many_requests(int retry_after_seconds) {
  auto d = nlohmann::json::object();
  d["retryAfterSeconds"] = retry_after_seconds;
  auto e = make(429, "TooManyRequests",
                "Too many requests, please try again later.", std::move(d));
  e.headers.emplace_back("Retry-After", std::to_string(retry_after_seconds));
  return e;
}

api_error expired(const std::string& message) {
  return make(410, "Expired", message);
}

api_error timeout(const std::string& message, int retry_after_seconds) {
  auto d = nlohmann::json::object();
  d["retryAfterSeconds"] = retry_after_seconds;
  return make(504, "Timeout", "Timeout: " + message, std::move(d));
}

field_cause invalid_value(const std::string& field, const std::string& value,
                          const std::string& detail) {
  return {"FieldValueInvalid",
          "Invalid value: " + go_quote(value) + ": " + detail, field};
}

field_cause required_value(const std::string& field,
                           const std::string& detail) {
  return {"FieldValueRequired",
          "Required value" + (detail.empty() ? "" : ": " + detail), field};
}

field_cause forbidden_field(const std::string& field,
                            const std::string& detail) {
  return {"FieldValueForbidden", "Forbidden: " + detail, field};
}

} // namespace errors

} // namespace istio_csr::devcluster
