#include "pki/names.hpp"

#include <arpa/inet.h>

namespace istio_csr::pki {

bool is_ip_address(std::string_view text) {
  if (text.empty() || text.size() > 64)
    return false;
  std::string str{text};
  unsigned char buf[16];
  return inet_pton(AF_INET, str.c_str(), buf) == 1
         || inet_pton(AF_INET6, str.c_str(), buf) == 1;
}

subject_alt_names classify_san_strings(const std::vector<std::string>& names) {
  subject_alt_names out;
  for (const auto& name : names) {
    if (is_ip_address(name))
      out.ips.push_back(name);
    else if (name.starts_with("spiffe://"))
      out.uris.push_back(name);
    else
      out.dns.push_back(name);
  }
  return out;
}

} // namespace istio_csr::pki
