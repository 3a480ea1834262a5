// Node authorization against a synthetic pod index: every case of
// upstream's node_auth_test.go TestAuthImpersonation (errors compared
// exactly), plus our trust-domain check and the order of the checks.

#define CAF_SUITE ambient.node_authorizer

#include "caf/test/unit_test.hpp"

#include <optional>
#include <string>
#include <vector>

#include "tests/actors/ambient/fixture.hpp"

using namespace istio_csr::test::ambient;

namespace {

/// Upstream's test table: trusted accounts, pods, caller, identity.
std::optional<std::string> authorize(const amb::trusted_accounts& trusted,
                                     const std::vector<test_pod>& pods,
                                     const amb::caller_info& caller,
                                     const std::string& identity,
                                     const std::string& td = "cluster.local") {
  amb::pod_index index;
  for (const auto& p : pods)
    CAF_REQUIRE(index.upsert(p.record()));
  amb::node_authorizer auth{trusted, td};
  return auth.check(index, caller, identity);
}

/// `x` as a printable optional for CAF_CHECK_EQUAL.
std::string show(const std::optional<std::string>& x) {
  return x ? *x : std::string{"<allowed>"};
}

const std::string allowed = "<allowed>";

} // namespace

CAF_TEST(trusted caller and requested identity on the same node) {
  auto res = authorize(allow_ztunnel(), {ztunnel_pod, pod_same_node},
                       ztunnel_caller, pod_same_node.identity());
  CAF_CHECK_EQUAL(show(res), allowed);
}

CAF_TEST(trusted caller and identity on the same node with other nodes) {
  auto res
    = authorize(allow_ztunnel(), {ztunnel_pod, pod_same_node, pod_other_node},
                ztunnel_caller, pod_same_node.identity());
  CAF_CHECK_EQUAL(show(res), allowed);
}

CAF_TEST(caller not trusted) {
  auto res = authorize(amb::trusted_accounts{}, {ztunnel_pod, pod_same_node},
                       ztunnel_caller, pod_same_node.identity());
  CAF_CHECK_EQUAL(show(res), "caller (Pod{Name: ztunnel-a, Namespace: "
                             "istio-system, UID: 12345, ServiceAccount: "
                             "ztunnel}) is not allowed to impersonate");
  // Another account of the trusted namespace is not trusted either.
  auto other = authorize(amb::trusted_accounts::parse({"istio-system/other"}),
                         {ztunnel_pod, pod_same_node}, ztunnel_caller,
                         pod_same_node.identity());
  CAF_CHECK(other && other->ends_with("is not allowed to impersonate"));
}

CAF_TEST(requested identity not valid) {
  auto res = authorize(allow_ztunnel(), {ztunnel_pod, pod_same_node},
                       ztunnel_caller, "spiffe://invalid");
  CAF_CHECK_EQUAL(show(res), "identity is not a spiffe format");
  for (auto id : {"spiffe://cluster.local/ns/ns-a/sa/sa-a/extra",
                  "spiffe://cluster.local/ns/ns-a/serviceaccount/sa-a",
                  "http://cluster.local/ns/ns-a/sa/sa-a", ""}) {
    auto r = authorize(allow_ztunnel(), {ztunnel_pod, pod_same_node},
                       ztunnel_caller, id);
    CAF_CHECK_EQUAL(show(r), "identity is not a spiffe format");
  }
}

CAF_TEST(requested identity not on the same node) {
  auto res = authorize(allow_ztunnel(), {ztunnel_pod, pod_other_node},
                       ztunnel_caller, pod_other_node.identity());
  CAF_CHECK_EQUAL(show(res),
                  R"(no instances of "ns-a/sa-a" found on node "zt-node")");
}

CAF_TEST(caller pod not found) {
  auto res = authorize(allow_ztunnel(), {pod_same_node}, ztunnel_caller,
                       pod_same_node.identity());
  CAF_CHECK_EQUAL(show(res), "pod istio-system/ztunnel-a not found");
}

CAF_TEST(caller pod uid does not match) {
  auto caller = ztunnel_caller;
  caller.pod_uid = pod_same_node.uid;
  auto res = authorize(allow_ztunnel(), {ztunnel_pod, pod_same_node}, caller,
                       pod_same_node.identity());
  CAF_CHECK_EQUAL(show(res), "pod found, but UID does not match: 12345 vs 1");
}

CAF_TEST(caller service account does not match) {
  auto pod = ztunnel_pod;
  pod.account = pod_same_node.account;
  auto res = authorize(allow_ztunnel(), {pod}, ztunnel_caller,
                       pod_same_node.identity());
  CAF_CHECK_EQUAL(show(res),
                  "pod found, but ServiceAccount does not match: sa-a vs "
                  "ztunnel");
}

// -- ours ---------------------------------------------------------------------

CAF_TEST(an identity of another trust domain is refused) {
  // Upstream and istiod accept it: the pod ns-a/sa-a runs on the node.
  auto res = authorize(allow_ztunnel(), {ztunnel_pod, pod_same_node},
                       ztunnel_caller, "spiffe://evil.example/ns/ns-a/sa/sa-a");
  CAF_CHECK_EQUAL(show(res),
                  R"(identity "spiffe://evil.example/ns/ns-a/sa/sa-a" is not )"
                  R"(in the trust domain "cluster.local")");
  // The configured trust domain reads '@' as '.', as caller identities do.
  auto at
    = authorize(allow_ztunnel(), {ztunnel_pod, pod_same_node}, ztunnel_caller,
                "spiffe://foo.bar/ns/ns-a/sa/sa-a", "foo@bar");
  CAF_CHECK_EQUAL(show(at), allowed);
}

CAF_TEST(a client certificate caller has no pod and is not trusted) {
  amb::caller_info none;
  auto res = authorize(allow_ztunnel(), {ztunnel_pod, pod_same_node}, none,
                       pod_same_node.identity());
  CAF_CHECK_EQUAL(show(res), "caller (Pod{Name: , Namespace: , UID: , "
                             "ServiceAccount: }) is not allowed to "
                             "impersonate");
}

CAF_TEST(a token not bound to a pod finds no pod) {
  auto caller = ztunnel_caller;
  caller.pod_name.clear();
  caller.pod_uid.clear();
  auto res = authorize(allow_ztunnel(), {ztunnel_pod, pod_same_node}, caller,
                       pod_same_node.identity());
  CAF_CHECK_EQUAL(show(res), "pod istio-system/ not found");
}

CAF_TEST(checks run in upstream order) {
  // Untrusted wins over a bad identity; a bad identity and a foreign trust
  // domain win over a missing caller pod; the uid over the account.
  auto r1 = authorize(amb::trusted_accounts{}, {}, ztunnel_caller, "bad");
  CAF_CHECK(r1 && r1->ends_with("is not allowed to impersonate"));
  auto r2 = authorize(allow_ztunnel(), {}, ztunnel_caller, "bad");
  CAF_CHECK_EQUAL(show(r2), "identity is not a spiffe format");
  auto r3 = authorize(allow_ztunnel(), {}, ztunnel_caller,
                      "spiffe://other/ns/ns-a/sa/sa-a");
  CAF_CHECK(r3 && r3->find("trust domain") != std::string::npos);
  auto pod = ztunnel_pod;
  pod.account = "sa-a";
  auto caller = ztunnel_caller;
  caller.pod_uid = "other";
  auto r4 = authorize(allow_ztunnel(), {pod}, caller, pod_same_node.identity());
  CAF_CHECK_EQUAL(show(r4),
                  "pod found, but UID does not match: 12345 vs other");
}

CAF_TEST(a failed pod of the identity does not count) {
  auto failed = pod_same_node;
  failed.phase = "Failed";
  auto res = authorize(allow_ztunnel(), {ztunnel_pod, failed}, ztunnel_caller,
                       pod_same_node.identity());
  CAF_CHECK_EQUAL(show(res),
                  R"(no instances of "ns-a/sa-a" found on node "zt-node")");
  // Every other phase counts, as in istiod (Pending, Succeeded, Unknown).
  for (auto phase : {"Pending", "Running", "Succeeded", "Unknown", ""}) {
    auto p = pod_same_node;
    p.phase = phase;
    auto r = authorize(allow_ztunnel(), {ztunnel_pod, p}, ztunnel_caller,
                       pod_same_node.identity());
    CAF_CHECK_EQUAL(show(r), allowed);
  }
}

CAF_TEST(the identity of another namespace with the same account name) {
  auto elsewhere = pod_same_node;
  elsewhere.namespace_ = "ns-b";
  auto res = authorize(allow_ztunnel(), {ztunnel_pod, elsewhere},
                       ztunnel_caller, pod_same_node.identity());
  CAF_CHECK_EQUAL(show(res),
                  R"(no instances of "ns-a/sa-a" found on node "zt-node")");
}

CAF_TEST(go quoting) {
  CAF_CHECK_EQUAL(amb::go_quote("zt-node"), "\"zt-node\"");
  CAF_CHECK_EQUAL(amb::go_quote("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\x01\"");
}

CAF_TEST(caller text) {
  CAF_CHECK_EQUAL(amb::to_string(ztunnel_caller),
                  "Pod{Name: ztunnel-a, Namespace: istio-system, UID: 12345, "
                  "ServiceAccount: ztunnel}");
}
