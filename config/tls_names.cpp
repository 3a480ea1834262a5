#include "config/tls_names.hpp"

#include <algorithm>
#include <charconv>

#include <openssl/obj_mac.h>

#include "caf/sec.hpp"

namespace istio_csr::config {

namespace {

caf::error fail(std::string msg) {
  return caf::make_error(caf::sec::invalid_argument, std::move(msg));
}

std::string_view trim(std::string_view s) {
  auto ws = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v'
           || c == '\f';
  };
  while (!s.empty() && ws(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && ws(s.back()))
    s.remove_suffix(1);
  return s;
}

} // namespace

caf::expected<tls_version>
parse_serving_tls_min_version(std::string_view name) {
  tls_version v;
  if (name.empty())
    return tls_version::tls12;
  if (name == "VersionTLS10")
    v = tls_version::tls10;
  else if (name == "VersionTLS11")
    v = tls_version::tls11;
  else if (name == "VersionTLS12")
    v = tls_version::tls12;
  else if (name == "VersionTLS13")
    v = tls_version::tls13;
  else
    return fail("unknown tls version \"" + std::string{name} + "\"");
  if (v < tls_version::tls12)
    return fail("serving tls min version must be VersionTLS12 or higher");
  return v;
}

std::string_view to_string(tls_version v) {
  switch (v) {
    case tls_version::tls10: return "VersionTLS10";
    case tls_version::tls11: return "VersionTLS11";
    case tls_version::tls12: return "VersionTLS12";
    case tls_version::tls13: return "VersionTLS13";
  }
  return "unknown";
}

const std::vector<cipher_suite>& known_cipher_suites() {
  static const std::vector<cipher_suite> suites{
    // TLS 1.3 (accepted, not configurable).
    {"TLS_AES_128_GCM_SHA256", 0x1301, "TLS_AES_128_GCM_SHA256", true, false},
    {"TLS_AES_256_GCM_SHA384", 0x1302, "TLS_AES_256_GCM_SHA384", true, false},
    {"TLS_CHACHA20_POLY1305_SHA256", 0x1303, "TLS_CHACHA20_POLY1305_SHA256",
     true, false},
    // Go's tls.CipherSuites().
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", 0xc009, "ECDHE-ECDSA-AES128-SHA",
     false, false},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", 0xc00a, "ECDHE-ECDSA-AES256-SHA",
     false, false},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", 0xc013, "ECDHE-RSA-AES128-SHA",
     false, false},
    {"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", 0xc014, "ECDHE-RSA-AES256-SHA",
     false, false},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", 0xc02b,
     "ECDHE-ECDSA-AES128-GCM-SHA256", false, false},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", 0xc02c,
     "ECDHE-ECDSA-AES256-GCM-SHA384", false, false},
    {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", 0xc02f,
     "ECDHE-RSA-AES128-GCM-SHA256", false, false},
    {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", 0xc030,
     "ECDHE-RSA-AES256-GCM-SHA384", false, false},
    {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", 0xcca8,
     "ECDHE-RSA-CHACHA20-POLY1305", false, false},
    {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", 0xcca9,
     "ECDHE-ECDSA-CHACHA20-POLY1305", false, false},
    // Legacy aliases kept by k8s component-base.
    {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305", 0xcca8,
     "ECDHE-RSA-CHACHA20-POLY1305", false, false},
    {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305", 0xcca9,
     "ECDHE-ECDSA-CHACHA20-POLY1305", false, false},
    // RSA key exchange (secure in old Go releases, insecure in newer ones;
    // component-base accepts them either way).
    {"TLS_RSA_WITH_AES_128_CBC_SHA", 0x002f, "AES128-SHA", false, true},
    {"TLS_RSA_WITH_AES_256_CBC_SHA", 0x0035, "AES256-SHA", false, true},
    {"TLS_RSA_WITH_AES_128_GCM_SHA256", 0x009c, "AES128-GCM-SHA256", false,
     true},
    {"TLS_RSA_WITH_AES_256_GCM_SHA384", 0x009d, "AES256-GCM-SHA384", false,
     true},
    // Go's tls.InsecureCipherSuites().
    {"TLS_RSA_WITH_RC4_128_SHA", 0x0005, "RC4-SHA", false, true},
    {"TLS_RSA_WITH_3DES_EDE_CBC_SHA", 0x000a, "DES-CBC3-SHA", false, true},
    {"TLS_RSA_WITH_AES_128_CBC_SHA256", 0x003c, "AES128-SHA256", false, true},
    {"TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", 0xc007, "ECDHE-ECDSA-RC4-SHA", false,
     true},
    {"TLS_ECDHE_RSA_WITH_RC4_128_SHA", 0xc011, "ECDHE-RSA-RC4-SHA", false,
     true},
    {"TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", 0xc012, "ECDHE-RSA-DES-CBC3-SHA",
     false, true},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", 0xc023,
     "ECDHE-ECDSA-AES128-SHA256", false, true},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", 0xc027, "ECDHE-RSA-AES128-SHA256",
     false, true},
  };
  return suites;
}

std::optional<cipher_suite> find_cipher_suite(std::string_view name) {
  auto& all = known_cipher_suites();
  auto i = std::find_if(all.begin(), all.end(),
                        [&](const cipher_suite& s) { return s.name == name; });
  if (i == all.end())
    return std::nullopt;
  return *i;
}

caf::expected<std::vector<cipher_suite>>
parse_cipher_suites(const std::vector<std::string>& names) {
  std::vector<cipher_suite> out;
  for (auto& n : names) {
    auto s = find_cipher_suite(n);
    if (!s)
      return fail("Cipher suite " + n + " not supported or doesn't exist");
    out.emplace_back(*s);
  }
  return out;
}

namespace {

tls_curve curve_from_id(uint16_t id) {
  tls_curve c;
  c.id = id;
  switch (id) {
    case 23:
      c.go_name = "CurveP256";
      c.openssl_group = "P-256";
      c.nid = NID_X9_62_prime256v1;
      break;
    case 24:
      c.go_name = "CurveP384";
      c.openssl_group = "P-384";
      c.nid = NID_secp384r1;
      break;
    case 25:
      c.go_name = "CurveP521";
      c.openssl_group = "P-521";
      c.nid = NID_secp521r1;
      break;
    case 29:
      c.go_name = "X25519";
      c.openssl_group = "X25519";
      c.nid = NID_X25519;
      break;
    case 30:
      c.go_name = "CurveID(30)";
      c.openssl_group = "X448";
      c.nid = NID_X448;
      break;
    case 4588:
      // Hybrid post-quantum group: known to Go, not to OpenSSL 3.0.
      c.go_name = "X25519MLKEM768";
      break;
    default: c.go_name = "CurveID(" + std::to_string(id) + ")";
  }
  return c;
}

constexpr std::string_view curve_help
  = "supported: X25519, CurveP256, P-256, P256, CurveP384, P-384, P384, "
    "CurveP521, P-521, P521, or a decimal curve ID 0..65535";

} // namespace

caf::expected<tls_curve> parse_tls_curve(std::string_view raw) {
  auto name = trim(raw);
  if (name.empty())
    return fail("empty entry in serving tls curve preferences");
  if (name == "X25519")
    return curve_from_id(29);
  if (name == "CurveP256" || name == "P-256" || name == "P256")
    return curve_from_id(23);
  if (name == "CurveP384" || name == "P-384" || name == "P384")
    return curve_from_id(24);
  if (name == "CurveP521" || name == "P-521" || name == "P521")
    return curve_from_id(25);
  if (std::all_of(name.begin(), name.end(),
                  [](char c) { return c >= '0' && c <= '9'; })) {
    unsigned value = 0;
    auto res = std::from_chars(name.data(), name.data() + name.size(), value);
    if (res.ec == std::errc{} && res.ptr == name.data() + name.size()
        && value <= 65535)
      return curve_from_id(static_cast<uint16_t>(value));
  }
  std::string msg = "unknown serving tls curve preference \"";
  msg += name;
  msg += "\" (";
  msg += curve_help;
  msg += ')';
  return fail(std::move(msg));
}

caf::expected<std::vector<tls_curve>>
parse_tls_curves(const std::vector<std::string>& names) {
  std::vector<tls_curve> out;
  for (auto& n : names) {
    auto c = parse_tls_curve(n);
    if (!c)
      return std::move(c.error());
    out.emplace_back(std::move(*c));
  }
  return out;
}

} // namespace istio_csr::config
