#define CAF_SUITE kube.cluster
#include "caf/test/unit_test.hpp"

#include <set>

#include "errors/describe.hpp"
#include "kube/api/certificate_request.hpp"
#include "kube/api/config_map.hpp"
#include "kube/api/lease.hpp"
#include "kube/api/token_review.hpp"
#include "kube/api/validation.hpp"
#include "tests/kube/client/helpers.hpp"
#include "tests/support/process.hpp"
#include "tests/support/skip.hpp"

using namespace istio_csr;
using namespace istio_csr::kube;
using namespace istio_csr::kube::testing;
using istio_csr::test::wait_until;

namespace {

json labelled_config_map(const std::string& ns, const std::string& name,
                         std::map<std::string, std::string> labels) {
  return make_config_map(ns, name, labels, {{"k", "v"}});
}

std::set<std::string> names_of(const json& list) {
  std::set<std::string> result;
  for (auto& item : list["items"])
    if (item["metadata"]["name"] != root_ca_config_map)
      result.insert(item["metadata"]["name"].get<std::string>());
  return result;
}

std::set<std::string> select(client& c, const std::string& ns,
                             const std::string& label_selector,
                             const std::string& field_selector = {}) {
  list_options lo;
  lo.label_selector = label_selector;
  lo.field_selector = field_selector;
  return names_of(call_ok(c, request::list_of(resources::configmaps, ns, lo)));
}

} // namespace

CAF_TEST(config map lifecycle with optimistic concurrency) {
  auto c = cluster_client();
  auto ns = fresh_namespace(*c, "kube-crud");
  auto cm
    = call_ok(*c, request::create(resources::configmaps, ns,
                                  make_config_map(ns, "cm", {}, {{"a", "1"}})));
  object_ref ref{cm};
  CAF_CHECK_EQUAL(ref.name(), "cm");
  CAF_CHECK(!ref.uid().empty());
  CAF_CHECK(!ref.resource_version().empty());
  // A duplicate create.
  auto dup = call(*c, request::create(resources::configmaps, ns,
                                      make_config_map(ns, "cm", {}, {})));
  CAF_REQUIRE(!dup);
  CAF_CHECK(is(dup.error(), errc::already_exists));
  // kubectl sees what we created.
  auto out = cluster().kubectl(
    {"get", "configmap", "cm", "-n", ns, "-o", "jsonpath={.data.a}"});
  CAF_CHECK_EQUAL(out.exit_code, 0);
  CAF_CHECK_EQUAL(out.out, "1");
  // Update with the current resourceVersion, then with the stale one.
  auto v1 = cm;
  cm["data"]["a"] = "2";
  auto updated = call_ok(*c, request::update(resources::configmaps, cm));
  CAF_CHECK_EQUAL(updated["data"]["a"], "2");
  CAF_CHECK_NOT_EQUAL(object_ref{updated}.resource_version(),
                      ref.resource_version());
  v1["data"]["a"] = "stale";
  auto stale = call(*c, request::update(resources::configmaps, v1));
  CAF_REQUIRE(!stale);
  CAF_CHECK(is(stale.error(), errc::conflict));
  CAF_CHECK(!errors::message(stale.error()).empty());
  // Merge patch: add one key, remove another.
  auto patched = call_ok(
    *c, request::merge_patch(resources::configmaps, ns, "cm",
                             json{{"data", {{"b", "3"}, {"a", nullptr}}}}));
  CAF_CHECK_EQUAL(patched["data"], (json{{"b", "3"}}));
  // Delete with preconditions: a wrong uid is a conflict.
  auto wrong
    = call(*c, request::remove(resources::configmaps, ns, "cm",
                               delete_options{"not-the-uid", {}, {}, {}}));
  CAF_REQUIRE(!wrong);
  CAF_CHECK(is(wrong.error(), errc::conflict));
  auto del = call_ok(
    *c, request::remove(
          resources::configmaps, ns, "cm",
          delete_options{
            ref.uid(), object_ref{patched}.resource_version(), {}, {}}));
  CAF_CHECK_EQUAL(del["kind"], "Status");
  CAF_CHECK_EQUAL(del["status"], "Success");
  auto gone = call(*c, request::get(resources::configmaps, ns, "cm"));
  CAF_REQUIRE(!gone);
  CAF_CHECK(is(gone.error(), errc::not_found));
  CAF_CHECK_EQUAL(errors::message(gone.error()), "configmaps \"cm\" not found");
}

CAF_TEST(certificate requests with generateName and the status subresource) {
  auto c = cluster_client();
  auto ns = fresh_namespace(*c, "kube-cr");
  certificate_request_spec spec;
  spec.namespace_ = ns;
  spec.identities = "spiffe://cluster.local/ns/a/sa/b";
  spec.csr_pem = test_csr_pem();
  spec.duration = std::chrono::hours{1};
  spec.usages = {"client auth", "server auth"};
  // An issuer that does not exist: nothing signs this request.
  spec.issuer = {"nobody", "Issuer", "example.com"};
  auto cr = call_ok(*c, request::create(resources::certificaterequests, ns,
                                        make_certificate_request(spec)));
  certificate_request_view view{cr};
  CAF_CHECK(view.name().starts_with("istio-csr-"));
  CAF_CHECK_GREATER(view.name().size(), std::string{"istio-csr-"}.size());
  CAF_CHECK(view.request() == spec.csr_pem);
  // The status subresource ignores spec changes; the main resource ignores
  // status.
  cr["status"] = json{{"conditions", json::array({json{{"type", "Ready"},
                                                       {"status", "False"},
                                                       {"reason", "Failed"},
                                                       {"message", "test"}}})}};
  cr["spec"]["isCA"] = true;
  auto after
    = call_ok(*c, request::update_status(resources::certificaterequests, cr));
  CAF_CHECK(certificate_request_view{after}.failed());
  CAF_CHECK(!certificate_request_view{after}.is_ca());
  auto stale
    = call(*c, request::update_status(resources::certificaterequests, cr));
  CAF_CHECK(!stale && is(stale.error(), errc::conflict));
  auto list = call_ok(*c, request::list_of(resources::certificaterequests, ns));
  CAF_CHECK_EQUAL(list["items"].size(), 1u);
  auto del = call_ok(
    *c, request::remove(resources::certificaterequests, ns, view.name()));
  CAF_CHECK_EQUAL(del["status"], "Success");
}

CAF_TEST(an invalid object is a typed error) {
  auto c = cluster_client();
  auto res
    = call(*c, request::create(resources::namespaces, "",
                               json{{"apiVersion", "v1"},
                                    {"kind", "Namespace"},
                                    {"metadata", {{"name", "Not_Valid"}}}}));
  CAF_REQUIRE(!res);
  CAF_CHECK(is(res.error(), errc::invalid));
  CAF_CHECK(errors::message(res.error()).find("Not_Valid")
            != std::string::npos);
}

CAF_TEST(label and field selectors) {
  auto c = cluster_client();
  auto ns = fresh_namespace(*c, "kube-sel");
  call_ok(*c, request::create(resources::configmaps, ns,
                              labelled_config_map(
                                ns, "a", {{"env", "prod"}, {"tier", "web"}})));
  call_ok(*c, request::create(resources::configmaps, ns,
                              labelled_config_map(
                                ns, "b", {{"env", "dev"}, {"tier", "web"}})));
  call_ok(*c, request::create(resources::configmaps, ns,
                              labelled_config_map(ns, "c", {{"env", "test"}})));
  call_ok(*c, request::create(resources::configmaps, ns,
                              labelled_config_map(ns, "d", {})));
  using names = std::set<std::string>;
  CAF_CHECK_EQUAL(select(*c, ns, "env=prod"), (names{"a"}));
  CAF_CHECK_EQUAL(select(*c, ns, "env==prod"), (names{"a"}));
  CAF_CHECK_EQUAL(select(*c, ns, "env!=prod"), (names{"b", "c", "d"}));
  CAF_CHECK_EQUAL(select(*c, ns, "env in (dev,test)"), (names{"b", "c"}));
  CAF_CHECK_EQUAL(select(*c, ns, "env notin (dev,test)"), (names{"a", "d"}));
  CAF_CHECK_EQUAL(select(*c, ns, "tier"), (names{"a", "b"}));
  CAF_CHECK_EQUAL(select(*c, ns, "!tier"), (names{"c", "d"}));
  CAF_CHECK_EQUAL(select(*c, ns, "tier,env!=dev"), (names{"a"}));
  CAF_CHECK_EQUAL(select(*c, ns, "", "metadata.name=c"), (names{"c"}));
  CAF_CHECK_EQUAL(select(*c, ns, "tier", "metadata.name!=a"), (names{"b"}));
  // A malformed selector is the server's 400.
  list_options bad;
  bad.label_selector = "env in (";
  auto res = call(*c, request::list_of(resources::configmaps, ns, bad));
  CAF_CHECK(!res && is(res.error(), errc::bad_request));
}

CAF_TEST(paging follows continue to the end) {
  auto c = cluster_client();
  auto ns = fresh_namespace(*c, "kube-page");
  std::set<std::string> expected;
  for (int i = 0; i < 12; ++i) {
    auto name = "cm-" + std::to_string(i);
    expected.insert(name);
    call_ok(*c, request::create(resources::configmaps, ns,
                                make_config_map(ns, name, {}, {})));
  }
  list_options lo;
  lo.limit = 5;
  auto page = call_ok(*c, request::list_of(resources::configmaps, ns, lo));
  CAF_CHECK_EQUAL(page["items"].size(), 5u);
  CAF_CHECK(!object_ref{page}
               .json()["metadata"]["continue"]
               .get<std::string>()
               .empty());
  auto before = c->stats().requests;
  auto all = call_ok(*c, request::list_all(resources::configmaps, ns, lo));
  CAF_CHECK_EQUAL(names_of(all), expected);
  CAF_CHECK_EQUAL(c->stats().requests - before, 3u);
  CAF_CHECK(!all["metadata"].contains("continue"));
  CAF_CHECK(!object_ref{all}.resource_version().empty());
}

CAF_TEST(token request and token review) {
  auto c = cluster_client();
  auto ns = fresh_namespace(*c, "kube-tok");
  call_ok(*c, request::create(resources::serviceaccounts, ns,
                              json{{"apiVersion", "v1"},
                                   {"kind", "ServiceAccount"},
                                   {"metadata", {{"name", "app"}}}}));
  auto tr = call_ok(*c, request::create_subresource(
                          resources::serviceaccounts, ns, "app", "token",
                          json{{"apiVersion", "authentication.k8s.io/v1"},
                               {"kind", "TokenRequest"},
                               {"spec",
                                {{"audiences", json::array({"istio-ca"})},
                                 {"expirationSeconds", 3600}}}}));
  auto token = tr["status"]["token"].get<std::string>();
  CAF_REQUIRE(!token.empty());
  auto review
    = call_ok(*c, request::create(resources::tokenreviews, "",
                                  make_token_review(token, {"istio-ca"})));
  token_review_view v{review};
  CAF_CHECK(v.authenticated());
  CAF_CHECK_EQUAL(v.username(), "system:serviceaccount:" + ns + ":app");
  auto wrong
    = call_ok(*c, request::create(resources::tokenreviews, "",
                                  make_token_review(token, {"other"})));
  CAF_CHECK(!token_review_view{wrong}.authenticated());
  CAF_CHECK(!token_review_view{wrong}.error().empty());
}

CAF_TEST(a body that cannot be encoded completes with an error) {
  // A string that is not UTF-8 cannot become JSON: the request must be
  // answered at once with an error, never dropped (it once hung the call).
  auto c = cluster_client();
  auto started = std::chrono::steady_clock::now();
  auto res = call(*c, request::create(resources::tokenreviews, "",
                                      make_token_review("\xff\xfe", {"x"})));
  CAF_REQUIRE(!res);
  CAF_CHECK(is(res.error(), errc::bad_request));
  CAF_CHECK_NOT_EQUAL(errors::message(res.error()).find("cannot encode"),
                      std::string::npos);
  CAF_CHECK_LESS(std::chrono::steady_clock::now() - started,
                 std::chrono::seconds{5});
  // The client keeps working.
  call_ok(*c, request::list_of(resources::namespaces, ""));
}

CAF_TEST(credentials errors) {
  auto bad = cluster_client([](client_config& cfg) {
    cfg.token = "not-a-valid-token";
    cfg.token_file.clear();
  });
  auto res = call(*bad, request::get(resources::namespaces, "", "default"));
  CAF_REQUIRE(!res);
  CAF_CHECK(is(res.error(), errc::unauthorized));
  auto anonymous = cluster_client([](client_config& cfg) {
    cfg.token.clear();
    cfg.token_file.clear();
    cfg.client_cert_pem.clear();
    cfg.client_key_pem.clear();
  });
  res = call(*anonymous, request::get(resources::namespaces, "", "default"));
  CAF_REQUIRE(!res);
  CAF_CHECK(is(res.error(), errc::forbidden));
}

CAF_TEST(a rotated token file is used by the next request) {
  test::temp_dir dir;
  auto path = dir.write("token", "not-a-valid-token");
  bool has_token = true;
  auto c = cluster_client([&](client_config& cfg) {
    has_token = !cfg.token.empty();
    // The kubeconfig's admin token goes to the file later.
    dir.write("admin", cfg.token);
    cfg.token.clear();
    cfg.token_file = path;
  });
  if (!has_token) {
    ICSR_SKIP("the test kubeconfig has no bearer token");
    return;
  }
  auto res = call(*c, request::get(resources::namespaces, "", "default"));
  CAF_REQUIRE(!res);
  CAF_CHECK(is(res.error(), errc::unauthorized));
  std::filesystem::rename(dir.file("admin"), path);
  res = call(*c, request::get(resources::namespaces, "", "default"));
  CAF_CHECK(res);
}

CAF_TEST(injected server errors are retried where safe) {
  if (!devcluster_only("fault injection"))
    return;
  auto c = cluster_client();
  auto ns = fresh_namespace(*c, "kube-fault");
  call_ok(*c, request::create(resources::configmaps, ns,
                              make_config_map(ns, "cm", {}, {})));
  // Two 500s on GET: retried, then served.
  set_faults(*c, json{{"rules", json::array({json{{"verbs", {"get"}},
                                                  {"resources", {"configmaps"}},
                                                  {"namespaces", {ns}},
                                                  {"error", 500},
                                                  {"count", 2}}})}});
  auto retries = c->stats().retries;
  CAF_CHECK(call(*c, request::get(resources::configmaps, ns, "cm")));
  CAF_CHECK_EQUAL(c->stats().retries - retries, 2u);
  // A 503 on a generateName create: not retried, and nothing was created.
  set_faults(
    *c, json{{"rules", json::array({json{{"verbs", {"create"}},
                                         {"resources", {"certificaterequests"}},
                                         {"error", 503},
                                         {"count", 1}}})}});
  certificate_request_spec spec;
  spec.namespace_ = ns;
  spec.csr_pem = test_csr_pem();
  spec.duration = std::chrono::hours{1};
  spec.issuer = {"nobody", "Issuer", "example.com"};
  auto res = call(*c, request::create(resources::certificaterequests, ns,
                                      make_certificate_request(spec)));
  CAF_REQUIRE(!res);
  CAF_CHECK(is(res.error(), errc::server_error));
  auto list = call_ok(*c, request::list_of(resources::certificaterequests, ns));
  CAF_CHECK_EQUAL(list["items"].size(), 0u);
  // A 429 on the same create: retried after Retry-After, created once.
  set_faults(
    *c, json{{"rules", json::array({json{{"verbs", {"create"}},
                                         {"resources", {"certificaterequests"}},
                                         {"error", 429},
                                         {"retryAfterSeconds", 1},
                                         {"count", 1}}})}});
  auto start = std::chrono::steady_clock::now();
  CAF_CHECK(call(*c, request::create(resources::certificaterequests, ns,
                                     make_certificate_request(spec))));
  CAF_CHECK_GREATER_OR_EQUAL(std::chrono::steady_clock::now() - start, 1s);
  list = call_ok(*c, request::list_of(resources::certificaterequests, ns));
  CAF_CHECK_EQUAL(list["items"].size(), 1u);
  // 504 on list: a timeout error after all attempts.
  set_faults(*c, json{{"rules", json::array({json{{"verbs", {"list"}},
                                                  {"resources", {"configmaps"}},
                                                  {"error", 504}}})}});
  res = call(*c, request::list_of(resources::configmaps, ns));
  CAF_CHECK(!res && is(res.error(), errc::timeout));
  set_faults(*c, json::object());
}

CAF_TEST(the rate limiter spaces requests) {
  auto c = cluster_client([](client_config& cfg) {
    cfg.qps = 50;
    cfg.burst = 5;
  });
  auto start = std::chrono::steady_clock::now();
  std::vector<std::future<caf::expected<json>>> results;
  for (int i = 0; i < 30; ++i) {
    auto p = std::make_shared<std::promise<caf::expected<json>>>();
    results.push_back(p->get_future());
    c->get(resources::namespaces, "", "default",
           [p](caf::expected<json> r) { p->set_value(std::move(r)); });
  }
  for (auto& f : results) {
    CAF_REQUIRE(f.wait_for(30s) == std::future_status::ready);
    CAF_CHECK(f.get());
  }
  // 5 at once, 25 more at 50/s: at least 500 ms. A slow loop (sanitizers, a
  // busy machine) lets tokens refill while it submits, so a few of the 25
  // may find one without waiting.
  CAF_CHECK_GREATER_OR_EQUAL(std::chrono::steady_clock::now() - start, 490ms);
  CAF_CHECK_GREATER_OR_EQUAL(c->stats().throttled, 20u);
  CAF_CHECK_LESS_OR_EQUAL(c->stats().throttled, 25u);
}

CAF_TEST(leases round trip micro time and conflict on stale updates) {
  auto c = cluster_client();
  auto ns = fresh_namespace(*c, "kube-lease");
  lease_spec spec;
  spec.holder_identity = "a";
  spec.lease_duration = std::chrono::seconds{15};
  spec.acquire_time = std::chrono::system_clock::now();
  spec.renew_time = spec.acquire_time;
  auto lease = call_ok(*c, request::create(resources::leases, ns,
                                           make_lease(ns, "istio-csr", spec)));
  auto back = lease_view{lease}.spec();
  CAF_CHECK_EQUAL(back.holder_identity, "a");
  CAF_CHECK(std::chrono::floor<std::chrono::microseconds>(*back.renew_time)
            == std::chrono::floor<std::chrono::microseconds>(*spec.renew_time));
  auto stale = lease;
  lease["spec"]["holderIdentity"] = "b";
  call_ok(*c, request::update(resources::leases, lease));
  stale["spec"]["holderIdentity"] = "c";
  auto res = call(*c, request::update(resources::leases, stale));
  CAF_CHECK(!res && is(res.error(), errc::conflict));
}
