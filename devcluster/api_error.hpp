#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "devcluster/http_types.hpp"
#include "devcluster/resources.hpp"

namespace istio_csr::devcluster {

/// One cause of an `Invalid` error.
struct field_cause {
  std::string type;    ///< e.g. "FieldValueInvalid"
  std::string message; ///< e.g. `Invalid value: "X": ...`
  std::string field;   ///< e.g. "metadata.name"
};

/// A failed API call: HTTP code plus a `Status` body.
struct api_error {
  unsigned code = 500;
  nlohmann::json status;
  std::vector<std::pair<std::string, std::string>> headers;
  /// When set, the body is this text (`text/plain`) instead of `status`.
  std::optional<std::string> plain_text;

  http_response to_response() const;
};

/// The `Status` errors of k8s.io/apimachinery/pkg/api/errors, worded as a
/// real API server words them.
namespace errors {

/// `kind: Status` with `status: Failure`.
api_error make(unsigned code, const std::string& reason,
               const std::string& message,
               nlohmann::json details = nlohmann::json());

/// Details for a group/resource: {name, group?, kind: resource}.
nlohmann::json details(const std::string& group, const std::string& kind,
                       const std::string& name);

api_error not_found(const resource_type& t, const std::string& name);
api_error not_found(const std::string& group, const std::string& resource,
                    const std::string& name);
/// 404 `text/plain` "404 page not found": what kube-apiserver answers for a
/// path outside every API group it serves, and for an unknown resource of a
/// named group (`/apis/G/V/things`); the core group answers
/// `path_not_found()`.
api_error page_not_found();
/// 404 for a path the server does not serve.
api_error path_not_found();
api_error already_exists(const resource_type& t, const std::string& name);
/// 409 Conflict: "Operation cannot be fulfilled on R "name": why".
api_error conflict(const std::string& group, const std::string& resource,
                   const std::string& name, const std::string& why);
api_error conflict_modified(const resource_type& t, const std::string& name);
api_error invalid(const resource_type& t, const std::string& name,
                  const std::vector<field_cause>& causes);
api_error bad_request(const std::string& message);
api_error forbidden(const std::string& message, nlohmann::json details = {});
api_error unauthorized();
api_error method_not_allowed();
/// 415; `accepted` lists the media types, comma-separated.
api_error unsupported_media_type(const std::string& accepted);
api_error not_acceptable(const std::string& accept);
api_error internal(const std::string& message);
api_error too_many_requests(int retry_after_seconds);
api_error expired(const std::string& message);
api_error timeout(const std::string& message, int retry_after_seconds);

/// A `field_cause` for an invalid value.
field_cause invalid_value(const std::string& field, const std::string& value,
                          const std::string& detail);
field_cause required_value(const std::string& field, const std::string& detail);
field_cause forbidden_field(const std::string& field,
                            const std::string& detail);

} // namespace errors

} // namespace istio_csr::devcluster
