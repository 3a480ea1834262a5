#include "kube/api/errc.hpp"

#include "caf/make_message.hpp"
#include "caf/message.hpp"

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

namespace {

std::string code_name(uint8_t code) {
  return to_string(static_cast<errc>(code));
}

void register_category() {
  static const bool done
    = errors::register_category(error_category, "kube", code_name);
  static_cast<void>(done);
}

} // namespace

caf::error make_error(errc code) {
  register_category();
  return caf::error{static_cast<uint8_t>(code), error_category};
}

caf::error make_error(errc code, std::string message) {
  register_category();
  return caf::error{static_cast<uint8_t>(code), error_category,
                    caf::make_message(std::move(message))};
}

std::optional<errc> errc_of(const caf::error& err) noexcept {
  if (!err || err.category() != error_category)
    return std::nullopt;
  return static_cast<errc>(err.code());
}

} // namespace istio_csr::kube
