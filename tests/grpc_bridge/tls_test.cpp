#define CAF_SUITE grpc_bridge.tls

#include "tests/grpc_bridge/fixture.hpp"

#include "grpc_bridge/tls/tls_settings.hpp"

using namespace istio_csr;
using namespace istio_csr::test;

namespace {

// Shows s_client's output when a check about it fails.
#define CHECK_S_CLIENT(expr, res)                                              \
  do {                                                                         \
    bool ok_ = (expr);                                                         \
    CAF_CHECK(ok_);                                                            \
    if (!ok_)                                                                  \
      CAF_MESSAGE("s_client output:\n" << (res).output);                       \
  } while (false)

} // namespace

CAF_TEST_FIXTURE_SCOPE(tls_tests, bridge_fixture)

CAF_TEST(TLS 1.3 with AES GCM and ALPN h2 as ztunnel speaks it) {
  start();
  auto ca = ca_file();
  for (std::string suite :
       {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"}) {
    auto res = s_client(srv->port(), ca,
                        {"-tls1_3", "-ciphersuites", suite, "-alpn", "h2"});
    CHECK_S_CLIENT(res.connected, res);
    CAF_CHECK_EQUAL(res.protocol, "TLSv1.3");
    CAF_CHECK_EQUAL(res.cipher, suite);
    CAF_CHECK_EQUAL(res.alpn, "h2");
    CHECK_S_CLIENT(
      res.output.find("Verify return code: 0 (ok)") != std::string::npos, res);
  }
}

CAF_TEST(TLS 1.2 works by default and older versions are refused) {
  start();
  auto ca = ca_file();
  auto res = s_client(srv->port(), ca, {"-tls1_2", "-alpn", "h2"});
  CHECK_S_CLIENT(res.connected, res);
  CAF_CHECK_EQUAL(res.protocol, "TLSv1.2");
  CAF_CHECK_EQUAL(res.alpn, "h2");
  // TLS 1.1 (the client must be allowed to offer it at all: security level
  // 0); the server answers with a protocol_version alert.
  auto old
    = s_client(srv->port(), ca,
               {"-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0", "-alpn", "h2"});
  CHECK_S_CLIENT(!old.connected, old);
  CHECK_S_CLIENT(old.output.find("alert protocol version") != std::string::npos,
                 old);
}

CAF_TEST(a minimum of TLS 1.3 refuses TLS 1.2) {
  auto settings = default_settings();
  settings.tls.min_version = grpc_bridge::tls_version::v1_3;
  start(settings);
  auto ca = ca_file();
  auto res12 = s_client(srv->port(), ca, {"-tls1_2", "-alpn", "h2"});
  CHECK_S_CLIENT(!res12.connected, res12);
  CHECK_S_CLIENT(
    res12.output.find("alert protocol version") != std::string::npos, res12);
  auto res13 = s_client(srv->port(), ca, {"-tls1_3", "-alpn", "h2"});
  CHECK_S_CLIENT(res13.connected, res13);
  CAF_CHECK_EQUAL(res13.protocol, "TLSv1.3");
}

// With TLS 1.2 an ECDSA certificate's curve must be among the client's
// groups, so curve tests use an RSA serving key (upstream's default).
CAF_TEST(default curves accept X25519 P256 and P384) {
  serving = make_serving(ca, true);
  start();
  auto ca = ca_file();
  for (std::string group : {"X25519", "P-256", "P-384"}) {
    for (std::string version : {"-tls1_2", "-tls1_3"}) {
      auto res
        = s_client(srv->port(), ca, {version, "-groups", group, "-alpn", "h2"});
      CHECK_S_CLIENT(res.connected, res);
      auto expected = group == "X25519"  ? "X25519"
                      : group == "P-256" ? "ECDH, prime256v1"
                                         : "ECDH, secp384r1";
      CHECK_S_CLIENT(res.temp_key.rfind(expected, 0) == 0, res);
    }
  }
}

CAF_TEST(configured curves are the only ones accepted) {
  auto settings = default_settings();
  settings.tls.curves = {"P-384"};
  serving = make_serving(ca, true);
  start(settings);
  auto ca = ca_file();
  for (std::string version : {"-tls1_2", "-tls1_3"}) {
    auto bad = s_client(srv->port(), ca,
                        {version, "-groups", "X25519:P-256", "-alpn", "h2"});
    CHECK_S_CLIENT(!bad.connected, bad);
    auto good = s_client(srv->port(), ca,
                         {version, "-groups", "X25519:P-384", "-alpn", "h2"});
    CHECK_S_CLIENT(good.connected, good);
    CHECK_S_CLIENT(good.temp_key.rfind("ECDH, secp384r1", 0) == 0, good);
  }
}

CAF_TEST(configured cipher suites restrict TLS 1.2 only) {
  auto settings = default_settings();
  settings.tls.cipher_suites = {"ECDHE-ECDSA-AES256-GCM-SHA384"};
  start(settings);
  auto ca = ca_file();
  auto bad = s_client(
    srv->port(), ca,
    {"-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256", "-alpn", "h2"});
  CHECK_S_CLIENT(!bad.connected, bad);
  auto good = s_client(srv->port(), ca,
                       {"-tls1_2", "-cipher",
                        "ECDHE-ECDSA-AES128-GCM-SHA256:"
                        "ECDHE-ECDSA-AES256-GCM-SHA384",
                        "-alpn", "h2"});
  CHECK_S_CLIENT(good.connected, good);
  CAF_CHECK_EQUAL(good.cipher, "ECDHE-ECDSA-AES256-GCM-SHA384");
  // TLS 1.3 keeps its AES-GCM suites.
  auto tls13 = s_client(
    srv->port(), ca,
    {"-tls1_3", "-ciphersuites", "TLS_AES_128_GCM_SHA256", "-alpn", "h2"});
  CHECK_S_CLIENT(tls13.connected, tls13);
}

CAF_TEST(ALPN must offer h2) {
  start();
  auto ca = ca_file();
  auto none = s_client(srv->port(), ca, {});
  CHECK_S_CLIENT(!none.connected, none);
  CHECK_S_CLIENT(
    none.output.find("no application protocol") != std::string::npos, none);
  auto http1 = s_client(srv->port(), ca, {"-alpn", "http/1.1"});
  CHECK_S_CLIENT(!http1.connected, http1);
  CHECK_S_CLIENT(
    http1.output.find("no application protocol") != std::string::npos, http1);
  auto both = s_client(srv->port(), ca, {"-alpn", "http/1.1,h2"});
  CHECK_S_CLIENT(both.connected, both);
  CAF_CHECK_EQUAL(both.alpn, "h2");
}

// TLS 1.2 shows tickets and resumption in s_client's output. (TLS 1.3
// tickets, also disabled, arrive after the handshake and s_client exits
// before reading them, so they cannot be observed this way.)
CAF_TEST(no session tickets and no resumption) {
  start();
  auto res = s_client(srv->port(), ca_file(),
                      {"-tls1_2", "-alpn", "h2", "-reconnect"});
  CHECK_S_CLIENT(res.connected, res);
  CHECK_S_CLIENT(res.output.find("TLS session ticket:") == std::string::npos,
                 res);
  CHECK_S_CLIENT(res.output.find("Reused,") == std::string::npos, res);
  // -reconnect made six full handshakes.
  CAF_CHECK(
    wait_until([&] { return srv->transport_stats().handshakes_ok >= 6; }, 5s));
}

CAF_TEST(the served chain is the configured one) {
  start();
  auto res = s_client(srv->port(), ca_file(), {"-alpn", "h2", "-showcerts"});
  CHECK_S_CLIENT(res.connected, res);
  auto served = pki::certificate::from_pem(res.server_cert_pem);
  CAF_REQUIRE(served);
  CAF_CHECK_EQUAL(served->serial_hex(), serving.cert.serial_hex());
  // -showcerts prints the leaf and the CA that was configured in the chain.
  CHECK_S_CLIENT(res.output.find("1 s:CN = mesh root") != std::string::npos,
                 res);
}

CAF_TEST(settings validation rejects unknown names) {
  grpc_bridge::tls_settings s;
  CAF_CHECK(!grpc_bridge::validate(s));
  s.cipher_suites = {"ECDHE-RSA-AES128-GCM-SHA256", "NOT-A-CIPHER"};
  CAF_CHECK(grpc_bridge::validate(s));
  s.cipher_suites = {"ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA"};
  CAF_CHECK(grpc_bridge::validate(s));
  s.cipher_suites.clear();
  s.curves = {"X25519", "P-999"};
  CAF_CHECK(grpc_bridge::validate(s));
  s.curves = {"P-521"};
  CAF_CHECK(!grpc_bridge::validate(s));
  s.trust_domain.clear();
  CAF_CHECK(grpc_bridge::validate(s));
  CAF_CHECK(grpc_bridge::cipher_available("ECDHE-RSA-AES128-GCM-SHA256"));
  CAF_CHECK(!grpc_bridge::cipher_available("RC4-SHA"));
  CAF_CHECK(!grpc_bridge::cipher_available("A:B"));
  CAF_CHECK(grpc_bridge::curve_available("P-384"));
  CAF_CHECK(!grpc_bridge::curve_available("P-999"));
  // The server refuses to start with bad settings.
  auto settings = default_settings();
  settings.tls.curves = {"bogus"};
  grpc_bridge::server bad{settings, handler};
  CAF_CHECK(bad.start());
}

CAF_TEST_FIXTURE_SCOPE_END()
