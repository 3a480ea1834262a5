#define CAF_SUITE signing_actors.signer
#include "caf/test/unit_test.hpp"

#include "tests/actors/signing/fixture.hpp"

#include "actors/signing/certificate_requests.hpp"
#include "actors/signing/messages.hpp"
#include "kube/api/base64.hpp"
#include "kube/api/certificate_request.hpp"
#include "kube/api/object.hpp"
#include "pki/pem.hpp"
#include "pki/verify.hpp"

#include "caf/send.hpp"

using namespace istio_csr;
using namespace istio_csr::test;
using namespace istio_csr::test::signing;

namespace {

/// The chain verifies: leaf → intermediates → one of the roots of the last
/// element, which is the root bundle byte for byte.
void check_chain(const std::vector<std::string>& chain,
                 const std::string& roots_pem, const std::string& id) {
  CAF_REQUIRE_GREATER_OR_EQUAL(chain.size(), 2u);
  CAF_CHECK_EQUAL(chain.back(), roots_pem);
  auto leaf = pki::certificate::from_pem(chain.front());
  CAF_REQUIRE(leaf);
  auto sans = leaf->sans();
  CAF_REQUIRE_EQUAL(sans.uris.size(), 1u);
  CAF_CHECK_EQUAL(sans.uris.front(), id);
  std::vector<pki::certificate> intermediates;
  for (size_t i = 1; i + 1 < chain.size(); ++i) {
    auto c = pki::certificate::from_pem(chain[i]);
    CAF_REQUIRE(c);
    intermediates.push_back(*c);
  }
  auto roots = pki::parse_pem_bundle(roots_pem, 330000);
  CAF_REQUIRE(roots);
  CAF_CHECK_EQUAL(pki::verify_chain(*leaf, intermediates, *roots,
                                    pki::verify_purpose::client_auth),
                  caf::error{});
}

struct fixture : tree_fixture {
  std::string ns = make_namespace("sign");
  std::string token = sa_token(ns, "app");
  std::string id = spiffe_id(ns, "app");

  void start_default() {
    start(defaults(ns));
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(signer_tests, fixture)

CAF_TEST(a valid CSR gets a chain that verifies to the root) {
  cr_recorder rec{ns};
  start_default();
  auto csr = workload_csr({id});
  auto res = sign({csr, token});
  CAF_REQUIRE_EQUAL(res.code, "ok");
  check_chain(res.chain, bootstrap_ca_pem(), id);
  // The CertificateRequest as created: annotation, label, the exact CSR,
  // spec of docs/upstream.md §3.1.
  auto cr = rec.first_added();
  CAF_REQUIRE(cr);
  kube::certificate_request_view view{*cr};
  CAF_CHECK_EQUAL(view.generate_name(), "istio-csr-");
  CAF_CHECK(view.annotation(kube::identities_annotation)
            == std::optional<std::string>{id});
  CAF_CHECK(view.label(sg::managed_by_label)
            == std::optional<std::string>{"istio-csr"});
  CAF_CHECK(view.request() == std::optional<std::string>{csr});
  CAF_CHECK_EQUAL(view.duration(), "1h0m0s");
  CAF_CHECK_EQUAL(view.usages(),
                  (std::vector<std::string>{"client auth", "server auth"}));
  CAF_CHECK(!view.is_ca());
  CAF_CHECK(view.issuer()
            == (kube::issuer_ref{"istio-ca", "Issuer", "cert-manager.io"}));
  // ... and it is deleted afterwards.
  CAF_CHECK(rec.deleted(view.name()));
  CAF_CHECK(wait_no_crs(ns));
}

CAF_TEST(additional annotations merge over the identities and the duration is
           clamped) {
  cr_recorder rec{ns};
  auto s = defaults(ns);
  s.signer.cr.annotations = {{"custom.cert-manager.io/policy-name", "x"}};
  s.signer.max_duration = std::chrono::minutes{5};
  start(s);
  auto res = sign({workload_csr({id}), token, {}, {}, 86400});
  CAF_REQUIRE_EQUAL(res.code, "ok");
  auto leaf = pki::certificate::from_pem(res.chain.front());
  CAF_REQUIRE(leaf);
  CAF_CHECK(leaf->not_after() - leaf->not_before()
            <= std::chrono::minutes{5} + std::chrono::seconds{1});
  auto cr = rec.first_added();
  CAF_REQUIRE(cr);
  kube::certificate_request_view view{*cr};
  CAF_CHECK_EQUAL(view.duration(), "5m0s");
  CAF_CHECK(view.annotation("custom.cert-manager.io/policy-name")
            == std::optional<std::string>{"x"});
  CAF_CHECK(view.annotation(kube::identities_annotation)
            == std::optional<std::string>{id});
}

CAF_TEST(preserve keeps the CertificateRequest) {
  auto s = defaults(ns);
  s.signer.cr.preserve = true;
  s.watcher.cr.preserve = true;
  // Everything counts as an orphan: only preserve keeps the sweep away.
  s.watcher.orphan_age = std::chrono::milliseconds{0};
  start(s);
  auto res = sign({workload_csr({id}), token});
  CAF_REQUIRE_EQUAL(res.code, "ok");
  auto names = cr_names(ns, true);
  CAF_REQUIRE_EQUAL(names.size(), 1u);
  auto cr = call_ok(kube::request::get(kube::resources::certificaterequests, ns,
                                       names.front()));
  CAF_CHECK(sg::outcome_of(cr) == sg::cr_outcome::issued);
  // Nobody deletes it later either (signer, watcher): a second call and a
  // sweep leave both.
  CAF_REQUIRE_EQUAL(sign({workload_csr({id}), token}).code, "ok");
  caf::anon_send(child(sg::names::cr_watcher), sg::cr_sweep_atom::value);
  CAF_CHECK_EQUAL(watcher_stats().swept, 0u);
  CAF_CHECK_EQUAL(cr_names(ns, true).size(), 2u);
}

CAF_TEST(authentication and CSR failures are unauthenticated) {
  start_default();
  auto check_refused = [&](const sign_args& args, const char* what) {
    auto res = sign(args);
    CAF_CHECK_EQUAL(res.code, "unauthenticated");
    if (res.code != "unauthenticated")
      CAF_MESSAGE("case: " << what);
  };
  auto csr = workload_csr({id});
  check_refused({csr, "not-a-token"}, "bad token");
  check_refused({csr, ""}, "no token");
  check_refused({csr, sa_token(ns, "app", {"other-audience"})},
                "wrong audience");
  check_refused({"bad csr", token}, "bad CSR");
  check_refused({workload_csr({spiffe_id(ns, "other")}), token},
                "wrong identity");
  check_refused({workload_csr({id, spiffe_id(ns, "other")}), token},
                "superset");
  check_refused({workload_csr({}), token}, "no identity");
  // Nothing was created for any of these.
  CAF_CHECK(cr_names(ns).empty());
}

CAF_TEST(the cluster id must be ours or absent) {
  auto s = defaults(ns);
  s.signer.cluster_id = "cluster-1";
  start(s);
  auto csr = workload_csr({id});
  CAF_CHECK_EQUAL(sign({csr, token, {"Kubernetes"}}).code, "unauthenticated");
  CAF_CHECK_EQUAL(sign({csr, token, {"cluster-1"}}).code, "ok");
  CAF_CHECK_EQUAL(sign({csr, token, {}}).code, "ok");
  // Two values count as none.
  CAF_CHECK_EQUAL(sign({csr, token, {"a", "b"}}).code, "ok");
}

CAF_TEST(client certificate authentication) {
  signing_api::client_cert_identity cert;
  cert.spiffe_id = id;
  cert.uris = {id};
  auto csr = workload_csr({id});
  // Disabled: a client certificate alone does not authenticate.
  start_default();
  CAF_CHECK_EQUAL(sign({csr, "", {}, cert}).code, "unauthenticated");
  stop();
  auto s = defaults(ns);
  s.signer.client_cert_authenticator = true;
  start(s);
  auto res = sign({csr, "", {}, cert});
  CAF_REQUIRE_EQUAL(res.code, "ok");
  check_chain(res.chain, bootstrap_ca_pem(), id);
  // The identities are the certificate's, whatever the token says.
  auto other = workload_csr({spiffe_id(ns, "other")});
  CAF_CHECK_EQUAL(sign({other, token, {}, cert}).code, "unauthenticated");
  // Cluster ids are a token matter: ignored for certificate callers.
  CAF_CHECK_EQUAL(sign({csr, "", {"elsewhere"}, cert}).code, "ok");
}

CAF_TEST(impersonation is refused until ambient support lands) {
  auto s = defaults(ns);
  s.signer.trusted_node_accounts = {"istio-system/ztunnel"};
  start(s);
  auto target = spiffe_id(ns, "target");
  sign_args args{workload_csr({target}), token};
  args.impersonate = target;
  auto res = sign(args);
  CAF_CHECK_EQUAL(res.code, "unauthenticated");
  CAF_CHECK(cr_names(ns).empty());
}

CAF_TEST(no active issuer fails the signing) {
  log_capture logs;
  auto s = defaults(ns);
  s.issuer = std::make_shared<sg::active_issuer>(std::nullopt);
  start(s);
  auto res = sign({workload_csr({id}), token});
  CAF_CHECK_EQUAL(res.code, "signing_failed");
  CAF_CHECK(logs.wait_for("no active issuerRef is configured for istio-csr"));
  // The issuer comes back: signing works again, without a restart.
  s.issuer->set(kube::issuer_ref{"istio-ca", "Issuer", "cert-manager.io"});
  CAF_CHECK_EQUAL(sign({workload_csr({id}), token}).code, "ok");
  // The token never reaches the log.
  CAF_CHECK(!logs.contains(token));
}

CAF_TEST(many concurrent calls on few signers) {
  start_default();
  std::vector<std::shared_future<call_result>> answers;
  for (int i = 0; i < 40; ++i)
    answers.push_back(sign_async({workload_csr({id}), token}));
  size_t ok = 0;
  for (auto& f : answers) {
    CAF_REQUIRE(f.wait_for(60s) == std::future_status::ready);
    if (f.get().code == "ok")
      ++ok;
  }
  CAF_CHECK_EQUAL(ok, answers.size());
  // Both signers took part.
  for (auto& st : signer_stats())
    CAF_CHECK_GREATER(st.finished, 0u);
  CAF_CHECK(wait_no_crs(ns));
}

CAF_TEST_FIXTURE_SCOPE_END()
