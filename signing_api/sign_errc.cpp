#include "signing_api/sign_errc.hpp"

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

caf::error make_error(sign_errc x, std::string detail) {
  return errors::make_error(sign_error_category, "sign", x, std::move(detail));
}

std::optional<sign_errc> sign_errc_of(const caf::error& err) noexcept {
  return errors::code_of<sign_errc>(err, sign_error_category);
}

} // namespace istio_csr::signing_api
