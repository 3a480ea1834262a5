#include "signing_api/spiffe.hpp"

#include <algorithm>
#include <vector>

#include "caf/sec.hpp"

namespace istio_csr::signing_api {

namespace {

constexpr std::string_view uri_prefix = "spiffe://";

caf::error invalid(std::string text) {
  return caf::make_error(caf::sec::invalid_argument, std::move(text));
}

} // namespace

caf::expected<spiffe_identity> parse_spiffe_identity(std::string_view text) {
  if (!text.starts_with(uri_prefix))
    return invalid("identity is not a spiffe format");
  text.remove_prefix(uri_prefix.size());
  std::vector<std::string_view> parts;
  for (;;) {
    auto i = text.find('/');
    parts.push_back(text.substr(0, i));
    if (i == std::string_view::npos)
      break;
    text.remove_prefix(i + 1);
  }
  if (parts.size() != 5 || parts[1] != "ns" || parts[3] != "sa")
    return invalid("identity is not a spiffe format");
  return spiffe_identity{std::string{parts[0]}, std::string{parts[2]},
                         std::string{parts[4]}};
}

caf::expected<std::string> format_spiffe_identity(std::string_view trust_domain,
                                                  std::string_view ns,
                                                  std::string_view sa) {
  if (ns.empty() || sa.empty())
    return invalid("namespace or service account empty for SPIFFE uri");
  std::string td{trust_domain};
  std::replace(td.begin(), td.end(), '@', '.');
  std::string out{uri_prefix};
  out += td;
  out += "/ns/";
  out += ns;
  out += "/sa/";
  out += sa;
  return out;
}

} // namespace istio_csr::signing_api
