#include "kube/api/errc.hpp"

#include "errors/describe.hpp"

namespace istio_csr::kube {

std::string to_string(errc code) {
  switch (code) {
    case errc::not_found: return "not_found";
    case errc::already_exists: return "already_exists";
    case errc::conflict: return "conflict";
    case errc::gone: return "gone";
    case errc::invalid: return "invalid";
    case errc::bad_request: return "bad_request";
    case errc::unauthorized: return "unauthorized";
    case errc::forbidden: return "forbidden";
    case errc::too_many_requests: return "too_many_requests";
    case errc::server_error: return "server_error";
    case errc::timeout: return "timeout";
    case errc::connection_failed: return "connection_failed";
    case errc::tls_error: return "tls_error";
    case errc::decode_error: return "decode_error";
    case errc::cancelled: return "cancelled";
    case errc::config_error: return "config_error";
  }
  return "errc(" + std::to_string(static_cast<int>(code)) + ")";
}

caf::error make_error(errc code) {
  return errors::make_error(error_category, "kube", code);
}

caf::error make_error(errc code, std::string message) {
  return errors::make_error(error_category, "kube", code, std::move(message));
}

std::optional<errc> errc_of(const caf::error& err) noexcept {
  return errors::code_of<errc>(err, error_category);
}

} // namespace istio_csr::kube
