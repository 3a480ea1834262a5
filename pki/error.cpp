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

} // namespace istio_csr::pki
