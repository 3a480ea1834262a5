#include "kube/api/errc.hpp"

#include "caf/actor_system_config.hpp"
#include "caf/message.hpp"
#include "caf/sec.hpp"

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
  return caf::error{static_cast<uint8_t>(code), error_category};
}

caf::error make_error(errc code, std::string message) {
  return caf::error{static_cast<uint8_t>(code), error_category,
                    caf::make_message(std::move(message))};
}

std::optional<errc> errc_of(const caf::error& err) noexcept {
  if (!err || err.category() != error_category)
    return std::nullopt;
  return static_cast<errc>(err.code());
}

namespace {

const std::string* context_string(const caf::error& err) {
  if (!err)
    return nullptr;
  auto& ctx = err.context();
  if (ctx.size() == 1 && ctx.match_element<std::string>(0))
    return &ctx.get_as<std::string>(0);
  return nullptr;
}

} // namespace

std::string describe(const caf::error& err) {
  if (!err)
    return "none";
  std::string result;
  if (auto code = errc_of(err)) {
    result = "kube.";
    result += to_string(*code);
  } else if (err.category() == caf::atom("system")) {
    result = "system.";
    result += caf::to_string(static_cast<caf::sec>(err.code()));
  } else {
    return caf::to_string(err);
  }
  if (auto str = context_string(err); str && !str->empty()) {
    result += ": ";
    result += *str;
  }
  return result;
}

void add_error_category(caf::actor_system_config& cfg) {
  cfg.add_error_category(
    error_category, [](uint8_t code, caf::atom_value, const caf::message& ctx) {
      std::string result = "kube.";
      result += to_string(static_cast<errc>(code));
      if (ctx.size() == 1 && ctx.match_element<std::string>(0)) {
        result += ": ";
        result += ctx.get_as<std::string>(0);
      }
      return result;
    });
}

} // namespace istio_csr::kube
