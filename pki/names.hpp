#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace istio_csr::pki {

/// The subject or issuer fields this project reads or writes. Only
/// UTF8String attributes are written. An engaged but empty optional or an
/// empty string in a list is written as an empty attribute (istio's CSRs
/// carry exactly one empty O).
struct distinguished_name {
  std::optional<std::string> common_name;
  std::vector<std::string> organizations;
  std::vector<std::string> organizational_units;

  bool operator==(const distinguished_name&) const = default;
};

/// Subject alternative names by type. IPs are in text form ("10.0.0.1",
/// "fd00::1"); all lists keep the order of the certificate.
struct subject_alt_names {
  std::vector<std::string> dns;
  std::vector<std::string> ips;
  std::vector<std::string> uris;
  std::vector<std::string> emails;

  bool empty() const noexcept {
    return dns.empty() && ips.empty() && uris.empty() && emails.empty();
  }

  bool operator==(const subject_alt_names&) const = default;
};

/// Sorts name strings as istio's `pkiutil.GenCSR` does for the serving
/// certificate (docs/upstream.md §4): a string that parses as an IPv4/IPv6
/// address → IP, one that starts with "spiffe://" → URI, anything else → DNS.
subject_alt_names classify_san_strings(const std::vector<std::string>& names);

/// Whether `text` parses as an IPv4 or IPv6 address.
bool is_ip_address(std::string_view text);

} // namespace istio_csr::pki
