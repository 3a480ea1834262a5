#pragma once

#include <string>
#include <vector>

#include "signing_api/sign_errc.hpp"
#include "signing_api/sign_reply.hpp"

namespace istio_csr::test::signing {

/// What a reply delivered, for checks: "ok", the `sign_errc` name of its one
/// result, "<other error>", "<none>" or "<several>".
inline std::string
result_code(const std::vector<signing_api::sign_result>& results) {
  if (results.empty())
    return "<none>";
  if (results.size() > 1)
    return "<several>";
  if (results.front())
    return "ok";
  auto code = signing_api::sign_errc_of(results.front().error());
  return code ? to_string(*code) : "<other error>";
}

} // namespace istio_csr::test::signing
