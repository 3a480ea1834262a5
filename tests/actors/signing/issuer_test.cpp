#define CAF_SUITE signing_actors.issuer
#include "caf/test/unit_test.hpp"

#include "tests/actors/signing/fixture.hpp"

#include "kube/client/resource.hpp"
#include "pki/issue.hpp"

using namespace istio_csr;
using namespace istio_csr::test;
using namespace istio_csr::test::signing;

namespace {

struct fixture : behaviour_fixture {
  /// A namespace whose issuer behaves as `behaviour`; false (the test
  /// skips) on a real cluster.
  bool prepare(const std::string& behaviour, const std::string& delay = {}) {
    return prepare_namespace("issuer behaviours", "issuer", behaviour, delay);
  }

  /// No signer holds a call any more.
  bool signers_idle() {
    return wait_until(
      [&] {
        for (auto& st : signer_stats())
          if (st.active > 0)
            return false;
        return true;
      },
      10s, 20ms);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(issuer_tests, fixture)

CAF_TEST(a denied request fails and is deleted) {
  if (!prepare("deny"))
    return;
  cr_recorder rec{ns};
  start(defaults(ns));
  auto res = sign({workload_csr({id}), token});
  CAF_CHECK_EQUAL(res.code, "signing_failed");
  auto cr = rec.first_added();
  CAF_REQUIRE(cr);
  CAF_CHECK(rec.deleted(kube::object_ref{*cr}.name()));
}

CAF_TEST(a failed request fails and is deleted) {
  if (!prepare("fail"))
    return;
  start(defaults(ns));
  auto res = sign({workload_csr({id}), token});
  CAF_CHECK_EQUAL(res.code, "signing_failed");
  CAF_CHECK(wait_no_crs(ns));
}

CAF_TEST(an issuer that never answers hits the server deadline) {
  if (!prepare("never"))
    return;
  auto s = defaults(ns);
  s.signer.request_timeout = std::chrono::milliseconds{800};
  start(s);
  auto started = std::chrono::steady_clock::now();
  auto res = sign({workload_csr({id}), token});
  auto took = std::chrono::steady_clock::now() - started;
  CAF_CHECK_EQUAL(res.code, "timed_out");
  CAF_CHECK(took >= std::chrono::milliseconds{800});
  CAF_CHECK(took < 10s);
  CAF_CHECK(wait_no_crs(ns));
  CAF_CHECK(signers_idle());
  CAF_CHECK_EQUAL(watcher_stats().waits, 0u);
}

CAF_TEST(the caller deadline bounds the server deadline) {
  if (!prepare("never"))
    return;
  auto s = defaults(ns);
  s.signer.request_timeout = std::chrono::seconds{60};
  start(s);
  sign_args args{workload_csr({id}), token};
  args.deadline = std::chrono::milliseconds{700};
  auto started = std::chrono::steady_clock::now();
  auto res = sign(args, 20s);
  auto took = std::chrono::steady_clock::now() - started;
  CAF_CHECK_EQUAL(res.code, "timed_out");
  CAF_CHECK(took < 10s);
  CAF_CHECK(wait_no_crs(ns));
}

CAF_TEST(a cancelled call stops waiting and cleans up) {
  if (!prepare("never"))
    return;
  start(defaults(ns));
  auto answer = sign_async({workload_csr({id}), token});
  // Wait until the request waits on its CertificateRequest.
  CAF_REQUIRE(wait_until([&] { return watcher_stats().waits == 1; }, 20s));
  CAF_REQUIRE_EQUAL(cr_names(ns).size(), 1u);
  last_call()->cancel_by_caller();
  CAF_REQUIRE(answer.wait_for(10s) == std::future_status::ready);
  CAF_CHECK_EQUAL(answer.get().code, "cancelled");
  CAF_CHECK(wait_no_crs(ns));
  CAF_CHECK(signers_idle());
  CAF_CHECK(wait_until([&] { return watcher_stats().waits == 0; }, 10s));
}

CAF_TEST(a request deleted while waiting fails) {
  if (!prepare("never"))
    return;
  start(defaults(ns));
  auto answer = sign_async({workload_csr({id}), token});
  CAF_REQUIRE(wait_until([&] { return watcher_stats().waits == 1; }, 20s));
  auto names = cr_names(ns);
  CAF_REQUIRE_EQUAL(names.size(), 1u);
  call_ok(kube::request::remove(kube::resources::certificaterequests, ns,
                                names.front()));
  CAF_REQUIRE(answer.wait_for(10s) == std::future_status::ready);
  CAF_CHECK_EQUAL(answer.get().code, "signing_failed");
}

CAF_TEST(a slow issuer is waited for) {
  if (!prepare("delay", "1500ms"))
    return;
  start(defaults(ns));
  auto started = std::chrono::steady_clock::now();
  auto res = sign({workload_csr({id}), token});
  CAF_CHECK_EQUAL(res.code, "ok");
  CAF_CHECK(std::chrono::steady_clock::now() - started
            >= std::chrono::milliseconds{1500});
  CAF_CHECK(wait_no_crs(ns));
}

CAF_TEST(a chain that does not verify to the current roots is refused) {
  if (!prepare(""))
    return;
  auto s = defaults(ns);
  // Roots of another CA: the issued chain cannot verify.
  auto key = pki::private_key::generate_ec(256);
  CAF_REQUIRE(key);
  pki::cert_template tmpl;
  tmpl.subject.common_name = "another root";
  tmpl.is_ca = true;
  tmpl.key_usage = pki::key_usage::cert_sign | pki::key_usage::crl_sign;
  auto other = pki::self_sign(tmpl, *key);
  CAF_REQUIRE(other);
  auto bundle = sg::policy::load_root_bundle(other->to_pem());
  CAF_REQUIRE(bundle);
  s.roots = std::make_shared<sg::root_store>(std::move(*bundle));
  start(s);
  auto res = sign({workload_csr({id}), token});
  CAF_CHECK_EQUAL(res.code, "verification_failed");
  CAF_CHECK(wait_no_crs(ns));
  // The roots change: the next call verifies against the new ones, without
  // a restart.
  auto good = sg::policy::load_root_bundle(bootstrap_ca_pem());
  CAF_REQUIRE(good);
  CAF_CHECK(s.roots->set(std::move(*good)));
  auto ok = sign({workload_csr({id}), token});
  CAF_CHECK_EQUAL(ok.code, "ok");
  if (ok.code == "ok")
    CAF_CHECK_EQUAL(ok.chain.back(), bootstrap_ca_pem());
}

CAF_TEST(the CA of the answer is ignored for workload chains) {
  if (!prepare("empty-ca"))
    return;
  start(defaults(ns));
  auto res = sign({workload_csr({id}), token});
  CAF_REQUIRE_EQUAL(res.code, "ok");
  CAF_CHECK_EQUAL(res.chain.back(), bootstrap_ca_pem());
}

CAF_TEST_FIXTURE_SCOPE_END()
