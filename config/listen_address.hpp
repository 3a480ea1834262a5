#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "caf/expected.hpp"

namespace istio_csr::config {

/// Where one of our own listeners binds (`--debug-address`).
struct listen_address {
  /// An IP literal (IPv6 without brackets).
  std::string host;
  /// 0 picks an ephemeral port.
  std::uint16_t port = 0;
  /// Whether `host` is a loopback address (127.0.0.0/8, ::1).
  bool loopback = true;
};

/// Parses `HOST:PORT`: HOST an IPv4 literal, a bracketed IPv6 literal
/// (`[::1]:6061`), `localhost`, or empty, which means 127.0.0.1 (not every
/// interface, unlike Go: binding beyond this host takes an explicit
/// address such as `0.0.0.0`); PORT a number 0..65535. Host names other
/// than `localhost` are refused (no resolution at startup). Errors are
/// `sec::invalid_argument` with the reason.
caf::expected<listen_address> parse_listen_address(std::string_view text);

} // namespace istio_csr::config
