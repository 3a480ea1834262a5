// Upstream's e2e request suite (docs/upstream.md §9.2) against the real binary:
// direct gRPC calls over TLS with tokens from TokenRequest, checked with pki,
// the openssl CLI and kubectl. One cluster and one agent serve the whole suite
// (upstream's values: client-cert authenticator on, CRs preserved, a custom
// annotation, max duration 5m, trust domain foo.bar).

#define CAF_SUITE e2e.request

#include "tests/e2e/fixture.hpp"

#include <algorithm>

#include "errors/describe.hpp"
#include "pki/issue.hpp"
#include "pki/verify.hpp"

using namespace istio_csr;
using namespace istio_csr::test;
using namespace istio_csr::test::e2e;

namespace {

const std::string unauthenticated_message = "request authenticate failure";
constexpr int unauthenticated = 16;

environment& shared() {
  static std::unique_ptr<environment> env = [] {
    agent_settings s;
    s.preserve = true;
    s.client_cert_auth = true;
    return environment::start(s);
  }();
  return *env;
}

struct fixture {
  environment& env = shared();
  temp_dir dir;

  fixture() {
    env.require();
  }

  /// Expects `request authenticate failure` for `csr_pem`.
  void expect_unauthenticated(const std::string& csr_pem,
                              call_options opts = {}) {
    auto res = env.call(csr_pem, std::move(opts));
    CAF_CHECK_EQUAL(res.code, unauthenticated);
    CAF_CHECK_EQUAL(res.message, unauthenticated_message);
    CAF_CHECK(res.chain.empty());
    if (res.code != unauthenticated)
      CAF_MESSAGE("got " << res.describe());
  }

  /// Requests a certificate for the workload; fails the test on error.
  call_result sign(const workload_csr& csr, call_options opts = {}) {
    auto res = env.call(csr.pem, std::move(opts));
    if (!res.ok())
      CAF_FAIL("CreateCertificate failed: " << res.describe() << "\n"
                                            << env.csr_agent->log_tail());
    return res;
  }

  /// Everything a client checks of a good response, and the CR behind it.
  void check_issued(const workload_csr& csr, const call_result& res,
                    const std::string& expected_identities) {
    CAF_REQUIRE(res.chain.size() > 1);
    auto chain = parse_response(res.chain);
    // The leaf certifies our key and carries exactly the one URI.
    CAF_CHECK(chain.leaf.matches(csr.key));
    auto sans = chain.leaf.sans();
    CAF_CHECK_EQUAL(sans.uris, std::vector<std::string>{env.identity});
    CAF_CHECK(sans.dns.empty());
    CAF_CHECK(sans.ips.empty());
    CAF_CHECK(!chain.leaf.is_ca());
    // Max duration 5m clamps the requested hour (docs/upstream.md §2.6).
    auto lifetime = chain.leaf.not_after() - chain.leaf.not_before();
    auto lifetime_s
      = std::chrono::duration_cast<std::chrono::seconds>(lifetime).count();
    CAF_CHECK_LESS_OR_EQUAL(lifetime_s, 6 * 60);
    for (const auto& inter : chain.intermediates) {
      auto inter_sans = inter.sans();
      CAF_CHECK(inter_sans.uris.empty());
      CAF_CHECK(inter.is_ca());
    }
    // The last element is the root bundle, byte for byte as the issuer's.
    const auto& last = res.chain.back();
    CAF_CHECK_EQUAL(last, env.root_pem);
    for (const auto& root : chain.roots) {
      auto root_sans = root.sans();
      CAF_CHECK(root.is_ca());
      CAF_CHECK(root_sans.uris.empty());
    }
    // Verifies with our pki and with the openssl CLI.
    auto err = pki::verify_chain(chain.leaf, chain.intermediates, chain.roots,
                                 pki::verify_purpose::client_auth);
    auto err_text = errors::message(err);
    CAF_CHECK_EQUAL(err_text, "");
    std::vector<std::string> inter_pems(res.chain.begin() + 1,
                                        res.chain.end() - 1);
    auto verified
      = openssl_verify(dir, env.root_pem, inter_pems, res.chain.front());
    CAF_CHECK_EQUAL(verified, "");
    // The CertificateRequest: preserved, annotated, the exact CSR.
    auto cr = find_request(*env.cluster, csr.pem);
    CAF_REQUIRE(cr.has_value());
    auto annotations = cr->at("metadata").value("annotations", json::object());
    auto identities = annotations.value(identities_annotation, "");
    CAF_CHECK_EQUAL(identities, expected_identities);
    auto policy = annotations.value(policy_annotation, "");
    CAF_CHECK_EQUAL(policy, "istio-csr");
    auto spec = cr->at("spec");
    CAF_CHECK_EQUAL(spec.value("isCA", false), false);
    auto duration = spec.value("duration", "");
    CAF_CHECK_EQUAL(duration, "5m0s");
    auto usages = spec.value("usages", json::array());
    CAF_CHECK_EQUAL(usages.dump(), R"(["client auth","server auth"])");
    auto issuer = spec.value("issuerRef", json::object()).dump();
    CAF_CHECK_EQUAL(
      issuer,
      R"({"group":"cert-manager.io","kind":"Issuer","name":"istio-ca"})");
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(request_tests, fixture)

CAF_TEST(a bad token is unauthenticated) {
  call_options opts;
  opts.token = "not-a-token";
  expect_unauthenticated(make_csr(env.identity).pem, opts);
}

CAF_TEST(a token for another audience is unauthenticated) {
  call_options opts;
  opts.token = mint_token(*env.cluster, env.workload_namespace,
                          env.service_account, "not-istio-ca");
  expect_unauthenticated(make_csr(env.identity).pem, opts);
}

CAF_TEST(no token and no client certificate is unauthenticated) {
  call_options opts;
  opts.token = "";
  expect_unauthenticated(make_csr(env.identity).pem, opts);
}

CAF_TEST(a foreign cluster id is unauthenticated) {
  call_options opts;
  opts.cluster_id = "some-other-cluster";
  expect_unauthenticated(make_csr(env.identity).pem, opts);
}

CAF_TEST(a bad CSR is unauthenticated) {
  expect_unauthenticated("bad csr");
}

CAF_TEST(DNS IP and email SANs are unauthenticated) {
  pki::subject_alt_names dns;
  dns.uris = {env.identity};
  dns.dns = {"example.com", "foo.example.com"};
  expect_unauthenticated(make_csr(dns).pem);
  pki::subject_alt_names ip;
  ip.uris = {env.identity};
  ip.ips = {"127.0.0.1"};
  expect_unauthenticated(make_csr(ip).pem);
  pki::subject_alt_names email;
  email.uris = {env.identity};
  email.emails = {"joshua.vanleeuwen@jetstack.io"};
  expect_unauthenticated(make_csr(email).pem);
  // A common name is not allowed either.
  pki::subject_alt_names only_uri;
  only_uri.uris = {env.identity};
  expect_unauthenticated(make_csr(only_uri, false, "workload").pem);
}

CAF_TEST(a wrong identity is unauthenticated) {
  pki::subject_alt_names wrong;
  wrong.uris = {"spiffe://josh", "spiffe://bar"};
  expect_unauthenticated(make_csr(wrong).pem);
  expect_unauthenticated(make_csr("spiffe://" + env.settings.trust_domain
                                  + "/ns/" + env.workload_namespace
                                  + "/sa/someone-else")
                           .pem);
  // The right namespace and account in the default trust domain.
  expect_unauthenticated(make_csr("spiffe://cluster.local/ns/"
                                  + env.workload_namespace + "/sa/"
                                  + env.service_account)
                           .pem);
}

CAF_TEST(an extra identity is unauthenticated) {
  pki::subject_alt_names extra;
  extra.uris = {env.identity, "spiffe://bar"};
  expect_unauthenticated(make_csr(extra).pem);
}

CAF_TEST(impersonation without trusted node accounts is unauthenticated) {
  // The workload asks for another identity as ztunnel would; nobody is
  // trusted to impersonate (no --ca-trusted-node-accounts).
  auto other = "spiffe://" + env.settings.trust_domain + "/ns/"
               + env.workload_namespace + "/sa/default";
  call_options opts;
  opts.metadata = {{"ImpersonatedIdentity", other}};
  auto res = env.call(make_csr(other).pem, opts);
  CAF_CHECK_EQUAL(res.code, unauthenticated);
  CAF_CHECK(res.chain.empty());
}

CAF_TEST(a valid RSA CSR gets a chain to the issuer root) {
  auto csr = make_csr(env.identity, true);
  auto res = sign(csr);
  check_issued(csr, res, env.identity);
  auto leaf = parse_response(res.chain).leaf;
  CAF_CHECK(leaf.public_key().algorithm() == pki::key_algorithm::rsa);
}

CAF_TEST(a valid ECDSA CSR gets a chain to the issuer root) {
  auto csr = make_csr(env.identity, false);
  auto res = sign(csr);
  check_issued(csr, res, env.identity);
  auto leaf = parse_response(res.chain).leaf;
  CAF_CHECK(leaf.public_key().algorithm() == pki::key_algorithm::ec);
}

CAF_TEST(a shorter requested duration is kept) {
  auto csr = make_csr(env.identity);
  call_options opts;
  opts.validity_seconds = 120;
  sign(csr, opts);
  auto cr = find_request(*env.cluster, csr.pem);
  CAF_REQUIRE(cr.has_value());
  auto duration = cr->at("spec").value("duration", "");
  CAF_CHECK_EQUAL(duration, "2m0s");
}

CAF_TEST(preserved certificate requests are kept) {
  auto csr = make_csr(env.identity);
  sign(csr);
  // The agent deletes in the background right after answering; give it
  // ample time to (wrongly) do so.
  bool deleted = wait_until(
    [&] { return !find_request(*env.cluster, csr.pem).has_value(); }, 3s,
    200ms);
  CAF_CHECK(!deleted);
}

CAF_TEST(renewal with the issued certificate and no token) {
  auto first_csr = make_csr(env.identity);
  auto first = sign(first_csr);
  // istio-agent rotates with the certificate it holds: leaf and
  // intermediates as client chain, no token.
  call_options opts;
  opts.token = "";
  opts.client_key_pem = first_csr.key.to_pem();
  for (size_t i = 0; i + 1 < first.chain.size(); ++i)
    opts.client_cert_pem += first.chain[i];
  auto renewed_csr = make_csr(env.identity);
  auto renewed = sign(renewed_csr, opts);
  // For certificate authentication the identities are the SAN values.
  check_issued(renewed_csr, renewed, env.identity);
  auto a = parse_response(first.chain).leaf;
  auto b = parse_response(renewed.chain).leaf;
  CAF_CHECK_NOT_EQUAL(a.serial_hex(), b.serial_hex());
  // The certificate authenticates its own identity only.
  auto other = make_csr("spiffe://" + env.settings.trust_domain + "/ns/"
                        + env.workload_namespace + "/sa/someone-else");
  expect_unauthenticated(other.pem, opts);
}

CAF_TEST(a client certificate from a foreign CA fails the handshake) {
  // Even with a valid token: a bad client certificate fails the TLS
  // handshake, there is no fallback to the token (docs/upstream.md §2.2).
  auto foreign = make_root("foreign root");
  auto csr = make_csr(env.identity);
  pki::cert_template tmpl;
  tmpl.sans.uris = {env.identity};
  tmpl.key_usage
    = pki::key_usage::digital_signature | pki::key_usage::key_encipherment;
  tmpl.ext_key_usages
    = {std::string{pki::oid::server_auth}, std::string{pki::oid::client_auth}};
  tmpl.not_before = std::chrono::system_clock::now() - 5min;
  tmpl.not_after = tmpl.not_before + 1h;
  auto cert
    = unwrap(pki::issue(tmpl, csr.key.public_key(), foreign.cert, foreign.key));
  call_options opts;
  opts.client_cert_pem = cert.to_pem();
  opts.client_key_pem = csr.key.to_pem();
  opts.timeout = 10s;
  auto res = env.call(make_csr(env.identity).pem, opts);
  CAF_CHECK_EQUAL(res.code, 14); // UNAVAILABLE: no connection
  CAF_CHECK(res.chain.empty());
  // The same call without the certificate succeeds.
  auto plain = env.call(make_csr(env.identity).pem);
  CAF_CHECK(plain.ok());
}

CAF_TEST(the serving certificate carries the DNS names and chains to the root) {
  auto root_file = dir.write("root.pem", env.root_pem);
  auto res = run({program("openssl"), "s_client", "-connect",
                  env.csr_agent->address(), "-servername", serving_dns,
                  "-CAfile", root_file, "-verify_return_error",
                  "-verify_hostname", serving_dns, "-alpn", "h2", "-showcerts"},
                 30s);
  auto output = res.out + res.err;
  CAF_CHECK(output.find("Verify return code: 0 (ok)") != std::string::npos);
  CAF_CHECK(output.find("ALPN protocol: h2") != std::string::npos);
  auto begin = output.find("-----BEGIN CERTIFICATE-----");
  CAF_REQUIRE(begin != std::string::npos);
  auto cert = unwrap(pki::certificate::from_pem(output.substr(begin)));
  auto dns = cert.sans().dns;
  std::sort(dns.begin(), dns.end());
  CAF_CHECK_EQUAL(dns,
                  (std::vector<std::string>{serving_dns, alt_serving_dns}));
  if (output.find("Verify return code: 0 (ok)") == std::string::npos)
    CAF_MESSAGE(output);
}

CAF_TEST(a client like ztunnel with TLS 1.3 and AES GCM connects) {
  auto root_file = dir.write("root.pem", env.root_pem);
  for (const std::string suite :
       {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384"}) {
    auto res = run({program("openssl"), "s_client", "-connect",
                    env.csr_agent->address(), "-servername", serving_dns,
                    "-CAfile", root_file, "-verify_return_error", "-tls1_3",
                    "-ciphersuites", suite, "-alpn", "h2"},
                   30s);
    auto output = res.out + res.err;
    CAF_MESSAGE("s_client with " << suite);
    CAF_CHECK(output.find("New, TLSv1.3, Cipher is " + suite)
              != std::string::npos);
    CAF_CHECK(output.find("ALPN protocol: h2") != std::string::npos);
    CAF_CHECK(output.find("Verify return code: 0 (ok)") != std::string::npos);
  }
}

CAF_TEST(an HTTP2 client like ztunnel over TLS 1.3 gets an ECDSA certificate) {
  // curl (nghttp2) speaks gRPC by hand: TLS 1.3 only, AES-128-GCM, ALPN h2,
  // ztunnel's headers and an ECDSA P-256 CSR. An independent client of our
  // TLS front and HTTP/2 server.
  auto csr = make_csr(env.identity, false);
  auto res = curl_create_certificate(dir, env.csr_agent->port(), env.root_pem,
                                     csr.pem, env.token);
  CAF_CHECK_EQUAL(res.exit_code, 0);
  CAF_CHECK_EQUAL(res.http, "2 200");
  CAF_CHECK_EQUAL(res.grpc_status, "0");
  const auto& chain = res.chain;
  CAF_REQUIRE(chain.size() > 1);
  auto parsed = parse_response(chain);
  CAF_CHECK(parsed.leaf.matches(csr.key));
  CAF_CHECK(parsed.leaf.public_key().algorithm() == pki::key_algorithm::ec);
  auto leaf_sans = parsed.leaf.sans();
  CAF_CHECK_EQUAL(leaf_sans.uris, std::vector<std::string>{env.identity});
  CAF_CHECK_EQUAL(chain.back(), env.root_pem);
  if (res.exit_code != 0 || res.http != "2 200")
    CAF_MESSAGE("curl: " << res.diagnostics);
}

CAF_TEST_FIXTURE_SCOPE_END()
