#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "caf/error.hpp"

namespace istio_csr::kube {

/// Read-only view of a `meta.k8s.io/v1 Status` (error bodies, ERROR watch
/// events, some DELETE answers).
class status_view {
 public:
  /// One `details.causes` entry.
  struct cause {
    std::string reason;
    std::string message;
    std::string field;
  };

  explicit status_view(const nlohmann::json& obj) noexcept : obj_(&obj) {
    // nop
  }

  /// Whether the JSON is a Status (`kind: Status`).
  bool is_status() const;

  /// `status`: "Success" or "Failure".
  const std::string& status() const;

  /// `code`: the HTTP status code, 0 when absent.
  int code() const;

  /// `reason`, e.g. "NotFound", "AlreadyExists", "Expired".
  const std::string& reason() const;

  const std::string& message() const;

  /// `details.name`, `details.kind`.
  const std::string& details_name() const;
  const std::string& details_kind() const;

  /// `details.causes`.
  std::vector<cause> causes() const;

  /// `details.retryAfterSeconds`, when present and positive.
  std::optional<int> retry_after_seconds() const;

 private:
  const nlohmann::json* obj_;
};

/// Turns an HTTP error answer into a `kube::errc` error carrying the
/// Status message. `body` is the parsed response (null when it was not
/// JSON); `raw_body` is used in the message when it was not a Status.
/// Follows k8s.io/apimachinery `errors.ReasonForError`: the Status reason
/// decides, then the HTTP code.
caf::error error_from_status(int http_status, const nlohmann::json& body,
                             std::string_view raw_body = {});

/// Same for a Status object alone (an ERROR watch event); its `code` is the
/// HTTP code.
caf::error error_from_status(const nlohmann::json& status);

} // namespace istio_csr::kube
