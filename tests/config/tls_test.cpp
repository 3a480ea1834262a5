#define CAF_SUITE config.tls
#include "caf/test/unit_test.hpp"
#include "errors/describe.hpp"

#include <set>

#include "config/tls_names.hpp"
#include "kube/api/validation.hpp"
#include "tests/support/check_case.hpp"

using namespace istio_csr::config;

// Upstream pkg/tls/tls_test.go TestNewProvider: the option checks.
CAF_TEST(new provider option checks) {
  // empty options -> ok
  CAF_CHECK(parse_serving_tls_min_version("")
            == caf::expected<tls_version>{tls_version::tls12});
  CAF_CHECK(parse_cipher_suites({}));
  CAF_CHECK(parse_tls_curves({}));
  // cipher TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 -> ok
  auto suites = parse_cipher_suites({"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"});
  CAF_REQUIRE(suites);
  CAF_REQUIRE_EQUAL(suites->size(), 1u);
  CAF_CHECK_EQUAL((*suites)[0].id, 0xc02f);
  CAF_CHECK_EQUAL((*suites)[0].openssl_name, "ECDHE-RSA-AES128-GCM-SHA256");
  // curve X25519 -> ok
  CAF_CHECK(parse_tls_curves({"X25519"}));
  // bad cipher -> error
  CAF_CHECK(!parse_cipher_suites({"bad-cipher"}));
  // bad min version name -> error
  CAF_CHECK(!parse_serving_tls_min_version("bad-version"));
  // VersionTLS11 -> exact error
  auto v11 = parse_serving_tls_min_version("VersionTLS11");
  CAF_REQUIRE(!v11);
  CAF_CHECK_EQUAL(istio_csr::errors::message(v11.error()),
                  "serving tls min version must be VersionTLS12 or higher");
  // bad curve -> error
  CAF_CHECK(!parse_tls_curves({"bad-curve"}));
  CAF_CHECK(parse_serving_tls_min_version("VersionTLS13")
            == caf::expected<tls_version>{tls_version::tls13});
  CAF_CHECK_EQUAL(to_string(tls_version::tls13), "VersionTLS13");
}

// Upstream pkg/tls/curves_test.go.
CAF_TEST(curve preferences) {
  auto ids = [](const std::vector<std::string>& in) {
    std::vector<uint16_t> out;
    auto res = parse_tls_curves(in);
    if (res)
      for (auto& c : *res)
        out.push_back(c.id);
    return out;
  };
  using ids_t = std::vector<uint16_t>;
  CAF_CHECK_EQUAL(ids({"X25519", "CurveP256"}), (ids_t{29, 23}));
  CAF_CHECK_EQUAL(ids({"P-256", "P384"}), (ids_t{23, 24}));
  CAF_CHECK_EQUAL(ids({" X25519 ", "\tP-256"}), (ids_t{29, 23}));
  CAF_CHECK(parse_tls_curves({})->empty());
  CAF_CHECK(!parse_tls_curves({"not-a-curve"}));
  auto empty_entry = parse_tls_curves({"X25519", ""});
  CAF_REQUIRE(!empty_entry);
  CAF_CHECK_EQUAL(istio_csr::errors::message(empty_entry.error()),
                  "empty entry in serving tls curve preferences");
  CAF_CHECK(!parse_tls_curves({"  "}));
  // Every spelling of docs/upstream.md §1.4's list, and decimal IDs.
  struct row {
    const char* in;
    uint16_t id;
    const char* group;
  };
  std::vector<row> rows{
    {"X25519", 29, "X25519"},
    {"CurveP256", 23, "P-256"},
    {"P-256", 23, "P-256"},
    {"P256", 23, "P-256"},
    {"CurveP384", 24, "P-384"},
    {"P-384", 24, "P-384"},
    {"P384", 24, "P-384"},
    {"CurveP521", 25, "P-521"},
    {"P-521", 25, "P-521"},
    {"P521", 25, "P-521"},
    {"29", 29, "X25519"},
    {"23", 23, "P-256"},
    {"0", 0, ""},
    {"65535", 65535, ""},
    {"4588", 4588, ""},
  };
  for (auto& r : rows) {
    auto c = parse_tls_curve(r.in);
    ICSR_CHECK_CASE(c && c->id == r.id && c->openssl_group == r.group, r.in);
    if (c && !c->openssl_group.empty())
      ICSR_CHECK_CASE(c->nid != 0, r.in);
  }
  for (auto bad : {"x25519", "p256", "P-224", "65536", "-1", "1e3", "0x1d"})
    ICSR_CHECK_CASE(!parse_tls_curve(bad), bad);
  // (Locals: CAF_CHECK_EQUAL keeps references to its arguments.)
  auto p256 = parse_tls_curve("23");
  auto other = parse_tls_curve("99");
  CAF_REQUIRE(p256 && other);
  CAF_CHECK_EQUAL(p256->go_name, "CurveP256");
  CAF_CHECK_EQUAL(other->go_name, "CurveID(99)");
}

CAF_TEST(cipher suite table) {
  // Every secure Go suite is accepted, with its IANA ID.
  struct row {
    const char* name;
    uint16_t id;
    const char* openssl;
  };
  std::vector<row> rows{
    {"TLS_AES_128_GCM_SHA256", 0x1301, "TLS_AES_128_GCM_SHA256"},
    {"TLS_AES_256_GCM_SHA384", 0x1302, "TLS_AES_256_GCM_SHA384"},
    {"TLS_CHACHA20_POLY1305_SHA256", 0x1303, "TLS_CHACHA20_POLY1305_SHA256"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", 0xc009, "ECDHE-ECDSA-AES128-SHA"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", 0xc00a, "ECDHE-ECDSA-AES256-SHA"},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", 0xc013, "ECDHE-RSA-AES128-SHA"},
    {"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", 0xc014, "ECDHE-RSA-AES256-SHA"},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", 0xc02b,
     "ECDHE-ECDSA-AES128-GCM-SHA256"},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", 0xc02c,
     "ECDHE-ECDSA-AES256-GCM-SHA384"},
    {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", 0xc02f,
     "ECDHE-RSA-AES128-GCM-SHA256"},
    {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", 0xc030,
     "ECDHE-RSA-AES256-GCM-SHA384"},
    {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", 0xcca8,
     "ECDHE-RSA-CHACHA20-POLY1305"},
    {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", 0xcca9,
     "ECDHE-ECDSA-CHACHA20-POLY1305"},
    {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305", 0xcca8,
     "ECDHE-RSA-CHACHA20-POLY1305"},
    {"TLS_RSA_WITH_AES_128_GCM_SHA256", 0x009c, "AES128-GCM-SHA256"},
    {"TLS_RSA_WITH_3DES_EDE_CBC_SHA", 0x000a, "DES-CBC3-SHA"},
  };
  for (auto& r : rows) {
    auto s = find_cipher_suite(r.name);
    ICSR_CHECK_CASE(s && s->id == r.id && s->openssl_name == r.openssl, r.name);
  }
  // IANA names only; OpenSSL names and case variants are rejected.
  for (auto bad : {"ECDHE-RSA-AES128-GCM-SHA256",
                   "tls_ecdhe_rsa_with_aes_128_gcm_sha256", ""})
    ICSR_CHECK_CASE(!find_cipher_suite(bad), bad);
  // Names are unique, TLS 1.3 suites are flagged.
  std::set<std::string_view> names;
  for (auto& s : known_cipher_suites()) {
    ICSR_CHECK_CASE(names.insert(s.name).second, s.name);
    ICSR_CHECK_CASE(s.tls13 == (s.id >= 0x1301 && s.id <= 0x1305), s.name);
  }
  auto err = parse_cipher_suites({"TLS_AES_128_GCM_SHA256", "nope"});
  CAF_REQUIRE(!err);
  CAF_CHECK_EQUAL(istio_csr::errors::message(err.error()),
                  "Cipher suite nope not supported or doesn't exist");
}
