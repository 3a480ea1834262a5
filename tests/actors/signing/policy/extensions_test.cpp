#define CAF_SUITE signing.extensions

#include "caf/test/unit_test.hpp"

#include "actors/signing/policy/csr_policy.hpp"
#include "pki/crypto.hpp"
#include "tests/actors/signing/policy/csr_gen.hpp"

using namespace istio_csr;
using namespace istio_csr::actors::signing::policy;
using istio_csr::test::unwrap;

namespace {

using strings = std::vector<std::string>;

std::string s(std::string_view x) {
  return std::string{x};
}

// cert-manager KeyUsage names used by upstream's test table.
enum class usage {
  digital_signature,
  key_encipherment,
  client_auth,
  server_auth,
  cert_sign
};

// Upstream's TestValidateCSRExtentions cases: cert-manager's GenerateCSR
// puts usages into KeyUsage (Go encoding; digital signature and key
// encipherment when none are given) and ExtendedKeyUsage extensions.
struct csr_case {
  std::string name;
  strings emails, dns, uris, ips;
  std::vector<usage> usages;
  bool exp_err;
};

pki::csr generate_csr(const csr_case& c) {
  pki::csr_template tmpl;
  tmpl.subject = {};
  tmpl.sans.uris = c.uris;
  tmpl.sans.dns = c.dns;
  tmpl.sans.ips = c.ips;
  tmpl.sans.emails = c.emails;
  unsigned ku = 0;
  strings ekus;
  auto usages = c.usages;
  if (usages.empty())
    usages = {usage::digital_signature, usage::key_encipherment};
  for (auto u : usages) {
    switch (u) {
      case usage::digital_signature:
        ku |= test::go_ku::digital_signature;
        break;
      case usage::key_encipherment: ku |= test::go_ku::key_encipherment; break;
      case usage::cert_sign: ku |= test::go_ku::cert_sign; break;
      case usage::client_auth: ekus.push_back(s(pki::oid::client_auth)); break;
      case usage::server_auth: ekus.push_back(s(pki::oid::server_auth)); break;
    }
  }
  tmpl.extra_extensions.push_back(
    {s(pki::oid::key_usage), true, test::go_key_usage_value(ku)});
  if (!ekus.empty())
    tmpl.extra_extensions.push_back({s(pki::oid::ext_key_usage), false,
                                     unwrap(pki::encode_ext_key_usage(ekus))});
  // Re-encode and parse, to check what a peer would see.
  auto der = unwrap(pki::make_csr(test::ec_key(), tmpl)).to_der();
  return unwrap(pki::csr::from_der(der));
}

// All non-empty subsets of `set` (upstream's powerset).
template <class T>
std::vector<std::vector<T>> powerset(const std::vector<T>& set) {
  std::vector<std::vector<T>> out;
  for (unsigned bits = 1; bits < (1u << set.size()); ++bits) {
    std::vector<T> subset;
    for (size_t i = 0; i < set.size(); ++i)
      if ((bits >> i) & 1)
        subset.push_back(set[i]);
    out.push_back(std::move(subset));
  }
  return out;
}

const std::vector<unsigned> disallowed_key_usages{
  test::go_ku::content_commitment, test::go_ku::data_encipherment,
  test::go_ku::key_agreement,      test::go_ku::cert_sign,
  test::go_ku::crl_sign,           test::go_ku::encipher_only,
  test::go_ku::decipher_only,
};

const std::vector<unsigned> allowed_key_usages{
  test::go_ku::digital_signature,
  test::go_ku::key_encipherment,
};

const strings disallowed_ext_key_usages{
  "2.5.29.37.0",            // any
  "1.3.6.1.5.5.7.3.3",      // codeSigning
  "1.3.6.1.5.5.7.3.4",      // emailProtection
  "1.3.6.1.5.5.7.3.5",      // ipsecEndSystem
  "1.3.6.1.5.5.7.3.6",      // ipsecTunnel
  "1.3.6.1.5.5.7.3.7",      // ipsecUser
  "1.3.6.1.5.5.7.3.8",      // timeStamping
  "1.3.6.1.5.5.7.3.9",      // OCSPSigning
  "1.3.6.1.4.1.311.10.3.3", // Microsoft server gated crypto
  "2.16.840.1.113730.4.1",  // Netscape server gated crypto
  "1.3.6.1.4.1.311.2.1.22", // Microsoft commercial code signing
  "1.3.6.1.4.1.311.61.1.1", // Microsoft kernel code signing
};

const strings allowed_ext_key_usages{
  "1.3.6.1.5.5.7.3.1", // serverAuth
  "1.3.6.1.5.5.7.3.2", // clientAuth
};

} // namespace

// -- extensions_test.go TestValidateCSRExtentions -----------------------------

CAF_TEST(csr extensions are validated as upstream) {
  using u = usage;
  const std::vector<u> all{u::digital_signature, u::key_encipherment,
                           u::client_auth, u::server_auth};
  const strings two{"spiffe://foo.bar", "spiffe://bar.foo"};
  std::vector<csr_case> cases{
    {"single URI", {}, {}, {"spiffe://foo.bar"}, {}, {}, false},
    {"single URI, allowed usages",
     {},
     {},
     {"spiffe://foo.bar"},
     {},
     all,
     false},
    {"multiple URIs, allowed usages", {}, {}, two, {}, all, false},
    {"multiple URIs, dns, allowed usages", {}, {"foo.bar"}, two, {}, all, true},
    {"multiple URIs, ips, allowed usages", {}, {}, two, {"1.2.3.4"}, all, true},
    {"multiple URIs, emails, allowed usages",
     {"hello@example.com"},
     {},
     two,
     {},
     all,
     true},
    {"multiple URIs, emails, dns, ips, allowed usages",
     {"hello@example.com"},
     {"foo.bar"},
     two,
     {"1.2.3.4"},
     all,
     true},
    {"multiple URIs, subset of allowed usages",
     {},
     {},
     two,
     {},
     {u::digital_signature, u::server_auth},
     false},
    {"multiple URIs, disallowed usage",
     {},
     {},
     two,
     {},
     {u::digital_signature, u::key_encipherment, u::client_auth, u::server_auth,
      u::cert_sign},
     true},
  };
  for (const auto& c : cases) {
    auto errs
      = validate_csr_extensions(unwrap(generate_csr(c).requested_extensions()));
    if (errs.empty() == c.exp_err)
      CAF_FAIL(c.name << ": expected error=" << c.exp_err << ", got ["
                      << (errs.empty() ? "" : errs.front()) << "]");
    else
      CAF_CHECK(true);
  }
}

// -- extensions_test.go TestValidateKeyUsageExtension -------------------------

CAF_TEST(key usages are validated as upstream over the power sets) {
  auto allowed_sets = powerset(allowed_key_usages);
  allowed_sets.push_back({}); // the nil set
  size_t n = 0;
  for (const auto& disallowed : powerset(disallowed_key_usages)) {
    for (const auto& allowed : allowed_sets) {
      unsigned ku = 0;
      for (auto x : disallowed)
        ku |= x;
      for (auto x : allowed)
        ku |= x;
      if (!validate_key_usage_extension(test::go_key_usage_value(ku)))
        CAF_FAIL("accepted key usage " << ku);
      ++n;
    }
  }
  for (const auto& allowed : allowed_sets) {
    unsigned ku = 0;
    for (auto x : allowed)
      ku |= x;
    if (auto err = validate_key_usage_extension(test::go_key_usage_value(ku)))
      CAF_FAIL("rejected key usage " << ku << ": " << *err);
    ++n;
  }
  CAF_CHECK_EQUAL(n, 127u * 4u + 4u);
}

CAF_TEST(key usage values are checked byte by byte) {
  // The two allowed encodings and their union.
  CAF_CHECK(!validate_key_usage_extension(std::string("\x03\x02\x07\x80", 4)));
  CAF_CHECK(!validate_key_usage_extension(std::string("\x03\x02\x05\x20", 4)));
  CAF_CHECK(!validate_key_usage_extension(std::string("\x03\x02\x05\xa0", 4)));
  // OpenSSL's minimal encoding of "no usage" is 3 bytes: not 4, refused.
  CAF_CHECK(validate_key_usage_extension(std::string("\x03\x01\x00", 3)));
  // decipherOnly needs a second content byte.
  CAF_CHECK(
    validate_key_usage_extension(std::string("\x03\x03\x07\x80\x80", 5)));
  CAF_CHECK(validate_key_usage_extension(""));
  // An allowed prefix followed by anything: the length alone refuses it.
  CAF_CHECK(
    validate_key_usage_extension(std::string("\x03\x02\x07\x80\xff", 5)));
  // A byte that is not a BIT STRING tag.
  CAF_CHECK(validate_key_usage_extension(std::string("\x04\x02\x07\x80", 4)));
}

// -- extensions_test.go TestValidateExtendedKeyUsageExtension -----------------

CAF_TEST(extended key usage under the key usage oid always fails) {
  // Upstream builds every case with the KeyUsage OID, so every case hits
  // the "non extended key usage extension" guard.
  auto allowed_sets = powerset(allowed_ext_key_usages);
  allowed_sets.push_back({});
  std::vector<strings> cases;
  for (const auto& disallowed : powerset(disallowed_ext_key_usages))
    for (const auto& allowed : allowed_sets) {
      auto all = disallowed;
      all.insert(all.end(), allowed.begin(), allowed.end());
      cases.push_back(std::move(all));
    }
  for (const auto& allowed : allowed_sets)
    cases.push_back(allowed);
  CAF_CHECK_EQUAL(cases.size(), 4095u * 4u + 4u);
  for (const auto& oids : cases) {
    pki::x509_extension ext{s(pki::oid::key_usage), false,
                            unwrap(pki::encode_ext_key_usage(oids))};
    auto err = validate_ext_key_usage_extension(ext);
    if (!err)
      CAF_FAIL("accepted an EKU under the KeyUsage OID");
    else if (err->find("non extended key usage extension") != 0)
      CAF_FAIL("unexpected error: " << *err);
  }
}

CAF_TEST(real extended key usages allow only server and client auth) {
  auto eku = [](const strings& oids) {
    return pki::x509_extension{s(pki::oid::ext_key_usage), false,
                               unwrap(pki::encode_ext_key_usage(oids))};
  };
  for (const auto& allowed : powerset(allowed_ext_key_usages))
    CAF_CHECK(!validate_ext_key_usage_extension(eku(allowed)));
  CAF_CHECK(!validate_ext_key_usage_extension(eku({})));
  for (const auto& bad : disallowed_ext_key_usages) {
    CAF_CHECK(validate_ext_key_usage_extension(eku({bad})));
    CAF_CHECK(validate_ext_key_usage_extension(
      eku({s(pki::oid::server_auth), bad, s(pki::oid::client_auth)})));
  }
  auto err = validate_ext_key_usage_extension(eku({s(pki::oid::code_signing)}));
  CAF_REQUIRE(err);
  CAF_CHECK_EQUAL(*err, "forbidden extended key usage: 1.3.6.1.5.5.7.3.3");
  // A value that is not a SEQUENCE OF OID.
  CAF_CHECK(validate_ext_key_usage_extension(
    {s(pki::oid::ext_key_usage), false, "\x30\x03\x02\x01\x01"}));
}

// -- SubjectAltName encoding rules (docs/upstream.md §2.5) --------------------

CAF_TEST(san values must be one der sequence of uri names) {
  auto san = [](std::string value) {
    return pki::x509_extension{s(pki::oid::subject_alt_name), false,
                               std::move(value)};
  };
  pki::subject_alt_names uris;
  uris.uris = {"spiffe://a", "spiffe://b"};
  auto good = unwrap(pki::encode_subject_alt_names(uris));
  CAF_CHECK(!validate_subject_alt_name_extension(san(good)));
  // Trailing bytes after the SEQUENCE.
  CAF_CHECK(
    validate_subject_alt_name_extension(san(good + std::string(1, '\0'))));
  // Not a SEQUENCE (a SET with the same content).
  auto as_set = good;
  as_set[0] = '\x31';
  CAF_CHECK(validate_subject_alt_name_extension(san(as_set)));
  // Truncated.
  CAF_CHECK(
    validate_subject_alt_name_extension(san(good.substr(0, good.size() - 1))));
  CAF_CHECK(validate_subject_alt_name_extension(san("")));
  // A DNS name [2] among URIs.
  pki::subject_alt_names mixed = uris;
  mixed.dns = {"a.b"};
  CAF_CHECK(validate_subject_alt_name_extension(
    san(unwrap(pki::encode_subject_alt_names(mixed)))));
  // Only the tag number counts: a universal-class tag 6 (OID) passes.
  CAF_CHECK(!validate_subject_alt_name_extension(
    san(std::string("\x30\x03\x06\x01\x2a", 5))));
  // Non-minimal length encoding is not DER.
  CAF_CHECK(validate_subject_alt_name_extension(
    san(std::string("\x30\x81\x03\x86\x01\x61", 6))));
  // Indefinite length is not DER.
  CAF_CHECK(validate_subject_alt_name_extension(
    san(std::string("\x30\x80\x86\x01\x61\x00\x00", 7))));
  // An empty SEQUENCE has no bad name.
  CAF_CHECK(
    !validate_subject_alt_name_extension(san(std::string("\x30\x00", 2))));
  // The wrong OID.
  CAF_CHECK(
    validate_subject_alt_name_extension({s(pki::oid::key_usage), false, good}));
}
