#pragma once

// Certificates and CSRs are `SEQUENCE { to-be-signed, algorithm, signature }`:
// targets whose checks sit behind a signature sign what the fuzzer wrote,
// so that mutations get past the signature to the rules behind it.

#include <cstdlib>
#include <string>
#include <string_view>

#include "pki/crypto.hpp"
#include "pki/der.hpp"
#include "pki/private_key.hpp"
#include "tests/support/der.hpp"

namespace istio_csr::fuzz {

/// A new ECDSA P-256 key (aborts if OpenSSL cannot make one).
inline pki::private_key new_ec_key() {
  auto key = pki::private_key::generate_ec(256);
  if (!key)
    std::abort();
  return *key;
}

/// `tbs` signed with `key` (ECDSA with SHA-256), as a certificate or CSR
/// is. When `tbs` is a SEQUENCE, its element number `key_index` (from 0; -1:
/// none) is replaced by the SubjectPublicKeyInfo of `key` first; elements
/// after one that does not read are kept as they are.
inline std::string signed_der(std::string_view tbs, const pki::private_key& key,
                              int key_index) {
  auto rest = tbs;
  auto outer = pki::der::read(rest);
  std::string body;
  if (outer && outer->is(pki::der::tag::sequence, true)) {
    auto inner = outer->content;
    for (int index = 0; !inner.empty(); ++index) {
      auto before = inner;
      auto element = pki::der::read(inner);
      if (!element) {
        body += before;
        break;
      }
      body += index == key_index ? key.public_key().to_der()
                                 : std::string{element->whole};
    }
  } else {
    body = std::string{tbs};
  }
  auto signed_part = test::der_sequence(body);
  auto signature = pki::sign_sha256(key, signed_part);
  if (!signature)
    std::abort();
  // AlgorithmIdentifier ecdsa-with-SHA256 (1.2.840.10045.4.3.2).
  constexpr std::string_view ecdsa_with_sha256
    = "\x30\x0a\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x02";
  return test::der_sequence(
    signed_part + std::string{ecdsa_with_sha256}
    + test::der_tlv(0x03, std::string(1, '\0') + *signature));
}

} // namespace istio_csr::fuzz
