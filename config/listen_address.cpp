#include "config/listen_address.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>

#include "caf/sec.hpp"

#include "config/go_values.hpp"

namespace istio_csr::config {

namespace {

caf::error bad(std::string why) {
  return caf::make_error(caf::sec::invalid_argument, std::move(why));
}

} // namespace

caf::expected<listen_address> parse_listen_address(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos)
    return bad("missing port: want HOST:PORT, e.g. 127.0.0.1:6061");
  std::string host{text.substr(0, colon)};
  auto port_text = text.substr(colon + 1);
  auto port = parse_go_int(port_text, 64);
  if (port_text.empty() || !port || *port < 0 || *port > 65535)
    return bad("invalid port \"" + std::string{port_text}
               + "\": want a number 0..65535");
  listen_address result;
  result.port = static_cast<std::uint16_t>(*port);
  bool bracketed
    = host.size() >= 2 && host.front() == '[' && host.back() == ']';
  if (bracketed)
    host = host.substr(1, host.size() - 2);
  if (host.empty() || host == "localhost") {
    if (bracketed)
      return bad("empty IPv6 address");
    result.host = "127.0.0.1";
    return result;
  }
  std::array<unsigned char, 16> bytes{};
  if (!bracketed && ::inet_pton(AF_INET, host.c_str(), bytes.data()) == 1) {
    result.host = host;
    result.loopback = bytes[0] == 127;
    return result;
  }
  if (bracketed && ::inet_pton(AF_INET6, host.c_str(), bytes.data()) == 1) {
    result.host = host;
    static constexpr std::array<unsigned char, 16> loopback6{
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    static constexpr std::array<unsigned char, 12> mapped_prefix{
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    bool mapped
      = std::equal(mapped_prefix.begin(), mapped_prefix.end(), bytes.begin());
    result.loopback = bytes == loopback6 || (mapped && bytes[12] == 127);
    return result;
  }
  if (!bracketed && host.find(':') != std::string::npos)
    return bad("IPv6 addresses need brackets: [" + host + "]:PORT");
  return bad("invalid host \"" + host
             + "\": want an IP address or localhost (no host names)");
}

} // namespace istio_csr::config
