// Attacks on the signing path (docs/security.md), against the real binary:
// texts that read as another CSR to cert-manager (Go) than to a careless
// reader, CSRs whose extension requests hide names, hostile tokens, oversized
// input, and the overload limits. One cluster and one agent (CRs preserved,
// so the test can read what the agent stored) serve most of the suite.

#define CAF_SUITE e2e.security

#include "tests/e2e/fixture.hpp"

#include <algorithm>
#include <future>

#include "kube/api/base64.hpp"
#include "pki/pem.hpp"
#include "tests/pki/crafted_csr.hpp"
#include "tests/pki/pem_texts.hpp"
#include "tests/support/skip.hpp"

using namespace istio_csr;
using namespace istio_csr::test;
using namespace istio_csr::test::e2e;

namespace {

constexpr int unauthenticated = 16;
constexpr int resource_exhausted = 8;
constexpr int unavailable = 14;
const std::string unauthenticated_message = "request authenticate failure";

environment& shared() {
  static std::unique_ptr<environment> env = [] {
    agent_settings s;
    s.preserve = true;
    return environment::start(s);
  }();
  return *env;
}

/// Every CertificateRequest's spec.request, decoded.
std::vector<std::string> stored_requests(const test_cluster& cluster) {
  std::vector<std::string> out;
  for (const auto& cr : certificate_requests(cluster))
    out.push_back(decoded(cr, {"spec", "request"}));
  return out;
}

/// The DER of `pem`'s CSR as Go (cert-manager) reads it.
std::string go_der(const std::string& pem) {
  auto block = pki::first_pem_block(pem);
  return block ? block->der : std::string{};
}

struct fixture {
  environment& env = shared();
  temp_dir dir;

  fixture() {
    env.require();
  }

  void expect_unauthenticated(const call_result& res) {
    CAF_CHECK_EQUAL(res.code, unauthenticated);
    CAF_CHECK_EQUAL(res.message, unauthenticated_message);
    CAF_CHECK(res.chain.empty());
    if (res.code != unauthenticated)
      CAF_MESSAGE("got " << res.describe());
  }

  /// The identity of istiod in the agent's trust domain: what an attacker
  /// wants.
  std::string istiod() const {
    return "spiffe://" + env.settings.trust_domain
           + "/ns/istio-system/sa/istiod";
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(security_tests, fixture)

CAF_TEST(csr confusion texts get no certificate for another identity) {
  auto own = make_csr(env.identity);
  workload_csr victim = make_csr(istiod());
  while (go_der(victim.pem).size() % 3 == 0)
    victim = make_csr(istiod());
  auto texts = make_smuggling_texts(go_der(own.pem), go_der(victim.pem));
  for (const auto& text :
       {texts.begin_line_cr, texts.end_line_cr, texts.trailing_bits}) {
    // cert-manager would read istiod's CSR from this text.
    CAF_REQUIRE_EQUAL(go_der(text), go_der(victim.pem));
    expect_unauthenticated(env.call(text));
  }
  // Nothing was created for the victim's CSR (or for these texts at all).
  for (const auto& stored : stored_requests(*env.cluster)) {
    CAF_CHECK_NOT_EQUAL(go_der(stored), go_der(victim.pem));
    CAF_CHECK_NOT_EQUAL(go_der(stored), go_der(own.pem));
  }
}

CAF_TEST(what is stored is our own encoding of the checked csr) {
  // CRLF lines, blank lines and trailing blanks: accepted, but the
  // CertificateRequest carries the canonical PEM of the same DER.
  auto csr = make_csr(env.identity);
  auto der = go_der(csr.pem);
  auto text = "\r\n"
              + pem_block_text("CERTIFICATE REQUEST", pki::base64_encode(der),
                               "\r\n", " ")
              + " \r\n";
  auto res = env.call(text);
  CAF_REQUIRE(res.ok());
  auto canonical = pki::pem_encode("CERTIFICATE REQUEST", der);
  CAF_CHECK(find_request(*env.cluster, canonical).has_value());
  CAF_CHECK(!find_request(*env.cluster, text).has_value());
  auto chain = parse_response(res.chain);
  CAF_CHECK(chain.leaf.matches(csr.key));
}

CAF_TEST(a csr with a second extension request is refused) {
  auto key = unwrap(pki::private_key::generate_ec(256));
  auto ca = pki::x509_extension{std::string{pki::oid::basic_constraints}, true,
                                pki::encode_basic_constraints(true)};
  auto csr = crafted_csr(
    key, {{std::string{extension_request_oid},
           {der_extensions({uri_san({env.identity})})}},
          {std::string{extension_request_oid}, {der_extensions({ca})}}});
  expect_unauthenticated(env.call(csr.to_pem()));
  CAF_CHECK(!find_request(*env.cluster, csr.to_pem()).has_value());
}

CAF_TEST(a bearer token that is not ascii is refused at once) {
  auto csr = make_csr(env.identity);
  auto before = env.csr_agent->process().err() + env.csr_agent->process().out();
  std::string token = "eyJhbGciOiJSUzI1NiJ9.\xff\xfe\x80payload.sig";
  auto res = curl_create_certificate(dir, env.csr_agent->port(), env.root_pem,
                                     csr.pem, token);
  CAF_CHECK_EQUAL(res.http, "2 200");
  CAF_CHECK_EQUAL(res.grpc_status, "16");
  // At once (curl's own start and handshake included), not after a 30 s
  // hang.
  CAF_CHECK_LESS(res.elapsed.count(), 3000);
  if (res.grpc_status != "16")
    CAF_MESSAGE("curl: " << res.diagnostics);
  // One log line about it, without the token.
  CAF_REQUIRE(wait_until(
    [&] {
      auto log
        = env.csr_agent->process().err() + env.csr_agent->process().out();
      return log.size() > before.size()
             && log.find("not printable ASCII", before.size())
                  != std::string::npos;
    },
    10s, 20ms));
  auto log = env.csr_agent->process().err() + env.csr_agent->process().out();
  auto added = log.substr(before.size());
  CAF_CHECK_EQUAL(std::count(added.begin(), added.end(), '\n'), 1);
  CAF_CHECK_EQUAL(added.find("payload"), std::string::npos);
}

CAF_TEST(an oversized csr is refused before any api call) {
  auto csr = make_csr(env.identity);
  auto requests_before = stored_requests(*env.cluster).size();
  // Over the CSR limit (8 KiB), under the message limit (16 KiB): the
  // signer refuses it before its TokenReview.
  expect_unauthenticated(env.call(csr.pem + std::string(10 * 1024, '\n')));
  // Over the message limit: grpc refuses it before any handler.
  auto huge = env.call(csr.pem + std::string(60 * 1024, '\n'));
  CAF_CHECK_EQUAL(huge.code, resource_exhausted);
  CAF_CHECK(huge.chain.empty());
  CAF_CHECK_EQUAL(stored_requests(*env.cluster).size(), requests_before);
}

CAF_TEST_FIXTURE_SCOPE_END()

// -- limits -------------------------------------------------------------------

namespace {

/// One call held by a slow issuer (it signs after 4 s) while a second
/// one is made: against an agent started with `args` (a limit of 1).
struct held_call {
  std::unique_ptr<environment> env;
  std::future<call_result> first;
  call_result second;
  bool skipped = false;
};

held_call second_call_while_one_waits(std::vector<std::string> args) {
  held_call out;
  agent_settings settings;
  auto issuer = test_cluster::unique_name("e2e-slow");
  settings.issuer_name = issuer;
  settings.extra_args = std::move(args);
  settings.extra_args.push_back("--certificate-request-timeout=30s");
  out.env = environment::start(settings, [&](environment& e) {
    if (!e.cluster->has_devcluster_issuer())
      return std::string{"skip"};
    return create_ca_issuer(*e.cluster, issuer, "istio-ca");
  });
  if (out.env->error == "skip") {
    ICSR_SKIP("issuer behaviours need devcluster's issuer");
    out.skipped = true;
    return out;
  }
  auto& env = *out.env;
  env.require();
  CAF_REQUIRE_EQUAL(
    env.cluster
      ->kubectl({"annotate", "issuer", issuer, "-n", certificate_namespace,
                 "devcluster.istio-csr.io/delay=4s", "--overwrite"})
      .exit_code,
    0);
  set_issuer_behaviour(*env.cluster, issuer, "delay");
  auto first_csr = make_csr(env.identity);
  out.first = std::async(std::launch::async,
                         [&env, pem = first_csr.pem] { return env.call(pem); });
  // Once the first call's request exists, the second finds the limit.
  CAF_REQUIRE(wait_until(
    [&] { return find_request(*env.cluster, first_csr.pem).has_value(); }, 20s,
    20ms));
  out.second = env.call(make_csr(env.identity).pem);
  return out;
}

} // namespace

CAF_TEST(calls beyond the pending certificate request limit are retriable) {
  auto held
    = second_call_while_one_waits({"--max-pending-certificate-requests=1"});
  if (held.skipped)
    return;
  CAF_CHECK_EQUAL(held.second.code, unavailable);
  CAF_CHECK_EQUAL(held.second.message,
                  "too many certificate requests waiting for the issuer");
  CAF_CHECK(retriable(held.second.code));
  CAF_CHECK(held.first.get().ok());
  // The slot is free again.
  auto third = held.env->call(make_csr(held.env->identity).pem);
  CAF_CHECK(third.ok());
  if (!third.ok())
    CAF_MESSAGE(third.describe());
}

CAF_TEST(calls beyond the concurrent request limit are retriable) {
  auto held = second_call_while_one_waits({"--max-concurrent-requests=1"});
  if (held.skipped)
    return;
  CAF_CHECK_EQUAL(held.second.code, resource_exhausted);
  CAF_CHECK_EQUAL(held.second.message, "too many requests in progress");
  CAF_CHECK(retriable(held.second.code));
  CAF_CHECK_LESS(held.second.elapsed.count(), 1000);
  CAF_CHECK(held.first.get().ok());
}
