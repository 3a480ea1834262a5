#pragma once

#include <memory>

#include <nlohmann/json.hpp>

namespace istio_csr::kube {

/// The decoded answer of one API request as actors pass it between them: an
/// object, a list or a `Status`, read through the kube/api views
/// (`object_ref{r.body()}`, `certificate_request_view{r.body()}`, ...).
/// Shared and immutable: copies are cheap.
class response {
 public:
  response() = default;

  explicit response(nlohmann::json body)
    : body_(std::make_shared<const nlohmann::json>(std::move(body))) {
    // nop
  }

  /// The body (null JSON for a default-constructed response).
  const nlohmann::json& body() const noexcept {
    static const nlohmann::json none;
    return body_ ? *body_ : none;
  }

 private:
  std::shared_ptr<const nlohmann::json> body_;
};

} // namespace istio_csr::kube
