#include "signing_api/sign_errc.hpp"

#include "caf/make_message.hpp"
#include "caf/message.hpp"

#include "errors/describe.hpp"

namespace istio_csr::signing_api {

std::string to_string(sign_errc x) {
  switch (x) {
    case sign_errc::unauthenticated: return "unauthenticated";
    case sign_errc::signing_failed: return "signing_failed";
    case sign_errc::verification_failed: return "verification_failed";
    case sign_errc::timed_out: return "timed_out";
    case sign_errc::signer_unavailable: return "signer_unavailable";
    case sign_errc::pod_cache_not_synced: return "pod_cache_not_synced";
    case sign_errc::pod_cache_unavailable: return "pod_cache_unavailable";
    case sign_errc::issuer_overloaded: return "issuer_overloaded";
    case sign_errc::cancelled: return "cancelled";
  }
  return "sign_errc(" + std::to_string(static_cast<int>(x)) + ")";
}

namespace {

std::string code_name(uint8_t code) {
  return to_string(static_cast<sign_errc>(code));
}

bool registered() {
  static const bool done
    = errors::register_category(sign_error_category, "sign", code_name);
  return done;
}

} // namespace

caf::error make_error(sign_errc x, std::string detail) {
  static_cast<void>(registered());
  if (detail.empty())
    return caf::error{static_cast<uint8_t>(x), sign_error_category};
  return caf::error{static_cast<uint8_t>(x), sign_error_category,
                    caf::make_message(std::move(detail))};
}

std::optional<sign_errc> sign_errc_of(const caf::error& err) noexcept {
  if (!err || err.category() != sign_error_category)
    return std::nullopt;
  return static_cast<sign_errc>(err.code());
}

} // namespace istio_csr::signing_api
