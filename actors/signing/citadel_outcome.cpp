#include "actors/signing/citadel_outcome.hpp"

#include "metrics/citadel.hpp"
#include "signing_api/sign_errc.hpp"

namespace istio_csr::actors::signing {

void count_refusal(refusal kind) {
  const auto& m = metrics::citadel();
  switch (kind) {
    case refusal::authentication: m.authentication_failure.inc(); break;
    case refusal::csr_parsing: m.csr_parsing_error.inc(); break;
    case refusal::id_extraction: m.id_extraction_error.inc(); break;
  }
}

void count_outcome(const signing_api::sign_result& result) {
  const auto& m = metrics::citadel();
  if (result) {
    m.success.inc();
    return;
  }
  auto code = signing_api::sign_errc_of(result.error());
  if (code == signing_api::sign_errc::unauthenticated)
    return;
  m.sign_error(code ? signing_api::to_string(*code) : "internal").inc();
}

} // namespace istio_csr::actors::signing
