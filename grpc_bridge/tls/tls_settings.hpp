#pragma once

#include <string>
#include <vector>

#include "caf/error.hpp"

namespace istio_csr::grpc_bridge {

/// The lowest TLS version the server accepts. Nothing below 1.2 exists here:
/// upstream rejects lower values at startup.
enum class tls_version { v1_2, v1_3 };

/// The TLS parameters of the serving endpoint (docs/upstream.md §1.4, §2.2).
/// The caller maps `config::options` into this: IANA cipher names and Go curve
/// names are translated by `config/`, this struct takes OpenSSL names.
struct tls_settings {
  /// `--trust-domain`: client certificates must carry exactly one URI SAN
  /// `spiffe://<trust_domain>/ns/<ns>/sa/<sa>`.
  std::string trust_domain = "cluster.local";

  /// max(`--serving-tls-min-version`, TLS 1.2).
  tls_version min_version = tls_version::v1_2;

  /// `--serving-tls-cipher-suites` as OpenSSL cipher names, in preference
  /// order, e.g. "ECDHE-ECDSA-AES128-GCM-SHA256". Affects TLS 1.2 only; TLS
  /// 1.3 always offers its AES-GCM (and ChaCha20) suites. Empty means Go's
  /// default TLS 1.2 list (`default_cipher_suites()`).
  std::vector<std::string> cipher_suites;

  /// `--serving-tls-curve-preferences` as OpenSSL group names ("X25519",
  /// "P-256", "P-384", "P-521"), in preference order. Empty means Go's
  /// defaults (`default_curves()`).
  std::vector<std::string> curves;
};

/// Go's default TLS 1.2 cipher suites (ECDHE with AES-GCM, ChaCha20-Poly1305
/// and AES-CBC-SHA), as OpenSSL names.
const std::vector<std::string>& default_cipher_suites();

/// Go's default curves without the post-quantum hybrid OpenSSL 3.0 lacks:
/// X25519, P-256, P-384, P-521.
const std::vector<std::string>& default_curves();

/// Checks that every cipher and curve name is known to OpenSSL and that the
/// trust domain is not empty.
caf::error validate(const tls_settings& settings);

/// Whether OpenSSL can use the TLS 1.2 cipher `openssl_name` at all. k8s
/// accepts insecure suites (RC4, 3DES, ...) that OpenSSL 3 lacks: callers
/// mapping `--serving-tls-cipher-suites` drop those with a warning, where Go
/// would offer them.
bool cipher_available(const std::string& openssl_name);

/// Whether OpenSSL knows the group `openssl_name`.
bool curve_available(const std::string& openssl_name);

} // namespace istio_csr::grpc_bridge
