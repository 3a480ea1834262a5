#pragma once

// Certificate factories shared by the pki and signing tests. Include only
// from CAF test translation units (uses CAF_REQUIRE).

#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "caf/test/unit_test.hpp"

#include "errors/describe.hpp"
#include "pki/certificate.hpp"
#include "pki/error.hpp"
#include "pki/issue.hpp"
#include "pki/private_key.hpp"

namespace istio_csr::test {

/// The value of `x`, failing the test (with the error text) if there is none.
template <class T>
T unwrap(caf::expected<T> x) {
  if (!x)
    CAF_FAIL("unexpected error: " << errors::message(x.error()));
  return std::move(*x);
}

/// A key and its certificate.
struct key_and_cert {
  pki::private_key key;
  pki::certificate cert;
};

inline pki::private_key ec_key() {
  return unwrap(pki::private_key::generate_ec(256));
}

/// A self-signed CA named `cn`.
inline key_and_cert make_root(const std::string& cn,
                              std::optional<pki::private_key> key = {}) {
  auto k = key ? *key : ec_key();
  pki::cert_template tmpl;
  tmpl.subject.common_name = cn;
  tmpl.subject.organizations = {"istio-csr tests"};
  tmpl.is_ca = true;
  tmpl.key_usage = pki::key_usage::cert_sign | pki::key_usage::crl_sign
                   | pki::key_usage::digital_signature;
  tmpl.not_before = std::chrono::system_clock::now() - std::chrono::hours{1};
  tmpl.not_after = tmpl.not_before + std::chrono::hours{24 * 365};
  auto cert = unwrap(pki::self_sign(tmpl, k));
  return {std::move(k), std::move(cert)};
}

/// An intermediate CA named `cn` issued by `parent`.
inline key_and_cert make_intermediate(const std::string& cn,
                                      const key_and_cert& parent) {
  auto k = ec_key();
  pki::cert_template tmpl;
  tmpl.subject.common_name = cn;
  tmpl.is_ca = true;
  tmpl.key_usage = pki::key_usage::cert_sign | pki::key_usage::crl_sign;
  tmpl.not_before = std::chrono::system_clock::now() - std::chrono::hours{1};
  tmpl.not_after = tmpl.not_before + std::chrono::hours{24 * 30};
  auto cert = unwrap(pki::issue(tmpl, k.public_key(), parent.cert, parent.key));
  return {std::move(k), std::move(cert)};
}

/// A leaf for `sans` issued by `parent`, good for client and server auth.
inline key_and_cert make_leaf(const key_and_cert& parent,
                              pki::subject_alt_names sans,
                              std::vector<std::string> ekus
                              = {std::string{pki::oid::client_auth},
                                 std::string{pki::oid::server_auth}}) {
  auto k = ec_key();
  pki::cert_template tmpl;
  tmpl.sans = std::move(sans);
  tmpl.key_usage
    = pki::key_usage::digital_signature | pki::key_usage::key_encipherment;
  tmpl.ext_key_usages = std::move(ekus);
  tmpl.not_before = std::chrono::system_clock::now() - std::chrono::minutes{5};
  tmpl.not_after = tmpl.not_before + std::chrono::hours{1};
  auto cert = unwrap(pki::issue(tmpl, k.public_key(), parent.cert, parent.key));
  return {std::move(k), std::move(cert)};
}

} // namespace istio_csr::test
