#include "pki/error.hpp"

#include <openssl/err.h>

#include "caf/message.hpp"
#include "caf/sec.hpp"

namespace istio_csr::pki {

caf::error invalid(std::string text) {
  ERR_clear_error();
  return caf::make_error(caf::sec::invalid_argument, std::move(text));
}

caf::error openssl_failure(std::string text) {
  unsigned long code = 0;
  bool first = true;
  while ((code = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    text += first ? ": " : "; ";
    text += buf;
    first = false;
  }
  return caf::make_error(caf::sec::runtime_error, std::move(text));
}

std::string error_text(const caf::error& err) {
  if (!err)
    return {};
  const auto& ctx = err.context();
  if (ctx.size() >= 1 && ctx.match_element<std::string>(0))
    return ctx.get_as<std::string>(0);
  return caf::to_string(err);
}

} // namespace istio_csr::pki
