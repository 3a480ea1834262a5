#include "signing_api/sign_request.hpp"

namespace istio_csr::signing_api {

sign_handler::~sign_handler() = default;

} // namespace istio_csr::signing_api
