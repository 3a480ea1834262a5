#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "caf/expected.hpp"

namespace istio_csr::config {

/// A TLS protocol version by its IANA code point (0x0303 = TLS 1.2).
enum class tls_version : uint16_t {
  tls10 = 0x0301,
  tls11 = 0x0302,
  tls12 = 0x0303,
  tls13 = 0x0304,
};

/// Parses a k8s component-base version name (`VersionTLS10` .. `VersionTLS13`).
/// The empty name means TLS 1.2. Versions below 1.2 fail with upstream's
/// message `serving tls min version must be VersionTLS12 or higher`; unknown
/// names with `unknown tls version "X"`.
caf::expected<tls_version> parse_serving_tls_min_version(std::string_view name);

/// Returns the k8s name of `v` (`VersionTLS12`).
std::string_view to_string(tls_version v);

/// One cipher suite as k8s component-base accepts it (Go's secure and
/// insecure suites plus two legacy ChaCha20 aliases).
struct cipher_suite {
  /// The name as given (IANA name, or a legacy alias).
  std::string_view name;
  /// The IANA code point.
  uint16_t id = 0;
  /// The OpenSSL name for `SSL_CTX_set_cipher_list` (TLS 1.2 and below), or
  /// for TLS 1.3 suites the name for `SSL_CTX_set_ciphersuites`.
  std::string_view openssl_name;
  /// TLS 1.3 suites are accepted but, as in Go, not configurable: they do not
  /// change the server's TLS 1.3 suites.
  bool tls13 = false;
  /// Go lists the suite as insecure (RC4, 3DES, CBC-SHA256, ...). OpenSSL 3
  /// may not offer it at all.
  bool insecure = false;

  friend bool operator==(const cipher_suite& x, const cipher_suite& y) {
    return x.id == y.id && x.name == y.name;
  }
};

/// Looks up one cipher-suite name; nullopt if k8s would reject it.
std::optional<cipher_suite> find_cipher_suite(std::string_view name);

/// Every accepted cipher-suite name.
const std::vector<cipher_suite>& known_cipher_suites();

/// Resolves `--serving-tls-cipher-suites`. An unknown name fails with k8s'
/// message `Cipher suite X not supported or doesn't exist`.
caf::expected<std::vector<cipher_suite>>
parse_cipher_suites(const std::vector<std::string>& names);

/// A TLS key-exchange group (Go `tls.CurveID`).
struct tls_curve {
  /// IANA TLS Supported Groups code point (X25519 = 29, P-256 = 23, ...).
  uint16_t id = 0;
  /// Go's name of the curve (`X25519`, `CurveP256`, or `CurveID(N)`).
  std::string go_name;
  /// OpenSSL group name for `SSL_CTX_set1_groups_list` (`X25519`, `P-256`),
  /// empty when OpenSSL has no such group.
  std::string openssl_group;
  /// OpenSSL NID for `SSL_CTX_set1_groups`, 0 when unknown.
  int nid = 0;

  friend bool operator==(const tls_curve& x, const tls_curve& y) {
    return x.id == y.id;
  }
};

/// Parses one curve: `X25519`, `CurveP256`/`P-256`/`P256`, `CurveP384`/
/// `P-384`/`P384`, `CurveP521`/`P-521`/`P521`, or a decimal ID 0..65535.
/// Surrounding whitespace is trimmed.
caf::expected<tls_curve> parse_tls_curve(std::string_view name);

/// Resolves `--serving-tls-curve-preferences` in order. An empty list gives an
/// empty result (library defaults); an empty entry or an unknown name fails.
caf::expected<std::vector<tls_curve>>
parse_tls_curves(const std::vector<std::string>& names);

} // namespace istio_csr::config
