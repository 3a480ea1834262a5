#include "actors/signing/request_guard.hpp"

#include "signing_api/sign_errc.hpp"

namespace istio_csr::actors::signing {

request_guard::~request_guard() {
  if (request_.reply && !request_.reply->finished())
    request_.reply->finish(
      signing_api::make_error(signing_api::sign_errc::signer_unavailable));
}

} // namespace istio_csr::actors::signing
