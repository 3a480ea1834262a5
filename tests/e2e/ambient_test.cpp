// Ambient impersonation end to end: devcluster, the real agent with
// --ca-trusted-node-accounts, pods created with kubectl (spec.nodeName set),
// tokens bound to pods (kubectl create token --bound-object-kind Pod), and
// calls as ztunnel makes them (ECDSA CSR with the workload's URI, metadata
// ImpersonatedIdentity). Layout: ztunnel pods on node A, workloads on A and
// B, an untrusted account with a pod on A.

#define CAF_SUITE ambient.e2e

#include "tests/e2e/fixture.hpp"

#include <chrono>
#include <string>

using namespace istio_csr;
using namespace istio_csr::test;
using namespace istio_csr::test::e2e;

namespace {

constexpr int unauthenticated = 16;
const std::string unauthenticated_message = "request authenticate failure";

/// The cluster objects of the suite (unique names: a real cluster may be
/// shared).
struct layout {
  std::string ns = test_cluster::unique_name("ambient");
  std::string node_a = test_cluster::unique_name("node-a");
  std::string node_b = test_cluster::unique_name("node-b");
};

layout& names() {
  static layout l;
  return l;
}

std::string pod_manifest(const std::string& ns, const std::string& name,
                         const std::string& sa, const std::string& node) {
  json pod{{"apiVersion", "v1"},
           {"kind", "Pod"},
           {"metadata", {{"name", name}, {"namespace", ns}}},
           {"spec",
            {{"serviceAccountName", sa},
             {"nodeName", node},
             {"containers",
              json::array(
                {{{"name", "c"}, {"image", "registry.k8s.io/pause:3.9"}}})}}}};
  return pod.dump();
}

/// Creates the namespace, the accounts and the first pods, and tells the
/// agent to trust `<ns>/ztunnel` (plus an invalid entry it must ignore).
std::string prepare(environment& env) {
  auto& l = names();
  auto& k = *env.cluster;
  if (auto r = k.kubectl({"create", "namespace", l.ns}); r.exit_code != 0)
    return "kubectl create namespace: " + r.err;
  for (auto sa :
       {"ztunnel", "untrusted", "wl-a", "wl-b", "wl-new", "wl-failed"})
    if (auto r = k.kubectl({"create", "serviceaccount", sa, "-n", l.ns});
        r.exit_code != 0)
      return "kubectl create serviceaccount: " + r.err;
  struct spec {
    const char* name;
    const char* sa;
    std::string node;
  };
  for (const auto& p :
       {spec{"ztunnel-a", "ztunnel", l.node_a},
        spec{"ztunnel-b", "ztunnel", l.node_a},
        spec{"untrusted-a", "untrusted", l.node_a},
        spec{"wl-a", "wl-a", l.node_a}, spec{"wl-b", "wl-b", l.node_b}})
    if (auto r = k.kubectl({"create", "-f", "-"},
                           pod_manifest(l.ns, p.name, p.sa, p.node));
        r.exit_code != 0)
      return "kubectl create pod: " + r.err;
  env.settings.extra_args.push_back("--ca-trusted-node-accounts=" + l.ns
                                    + "/ztunnel,no-slash-entry");
  return {};
}

environment& shared() {
  static std::unique_ptr<environment> env = [] {
    agent_settings s;
    s.preserve = true;
    s.client_cert_auth = true;
    return environment::start(s, prepare);
  }();
  return *env;
}

/// `text` as the agent's text log writes a field value (quotes escaped).
std::string logged(std::string text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\')
      out += '\\';
    out += c;
  }
  return out;
}

struct fixture {
  environment& env = shared();
  layout& l = names();

  fixture() {
    env.require();
  }

  const test_cluster& cluster() const {
    return *env.cluster;
  }

  /// `spiffe://foo.bar/ns/<ns>/sa/<sa>`.
  std::string id(const std::string& sa) const {
    return "spiffe://" + env.settings.trust_domain + "/ns/" + l.ns + "/sa/"
           + sa;
  }

  /// A token of `sa` bound to `pod` (as ztunnel's projected token).
  std::string bound_token(const std::string& sa, const std::string& pod) {
    auto r = cluster().kubectl({"create", "token", sa, "-n", l.ns, "--audience",
                                "istio-ca", "--duration", "30m",
                                "--bound-object-kind", "Pod",
                                "--bound-object-name", pod});
    CAF_REQUIRE_EQUAL(r.exit_code, 0);
    auto token = r.out;
    while (!token.empty() && token.back() == '\n')
      token.pop_back();
    return token;
  }

  /// `csrctl COMMAND` as ztunnel: the account `ztunnel` asking for
  /// `wl-a`'s identity with an ECDSA key, plus `extra`.
  command_result csrctl_as_ztunnel(const std::string& command,
                                   const std::vector<std::string>& extra) {
    std::vector<std::string> argv{bin("csrctl"),
                                  command,
                                  "--kubeconfig",
                                  cluster().kubeconfig(),
                                  "--address",
                                  env.csr_agent->address(),
                                  "--trust-domain",
                                  "foo.bar",
                                  "--namespace",
                                  l.ns,
                                  "--service-account",
                                  "ztunnel",
                                  "--impersonate",
                                  id("wl-a"),
                                  "--key",
                                  "ecdsa"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto res = run(argv, 120s);
    CAF_MESSAGE("csrctl " << command << " exit " << res.exit_code << "\n"
                          << res.out << res.err);
    return res;
  }

  /// A call as ztunnel makes it: `csr_pem`, asking for `target`.
  call_result impersonate_with(const std::string& token,
                               const std::string& target,
                               const std::string& csr_pem) {
    call_options opts;
    opts.token = token;
    opts.metadata = {{"ImpersonatedIdentity", target}};
    return create_certificate(env.csr_agent->address(), env.root_pem, csr_pem,
                              opts);
  }

  /// The same with a fresh CSR for `csr_uri`.
  call_result impersonate(const std::string& token, const std::string& target,
                          const std::string& csr_uri) {
    return impersonate_with(token, target, make_csr(csr_uri).pem);
  }

  call_result impersonate(const std::string& token, const std::string& target) {
    return impersonate(token, target, target);
  }

  void create_pod(const std::string& name, const std::string& sa,
                  const std::string& node) {
    auto r = cluster().kubectl({"create", "-f", "-"},
                               pod_manifest(l.ns, name, sa, node));
    CAF_REQUIRE_EQUAL(r.exit_code, 0);
  }

  /// Removes a pod at once. A plain delete of a pod on a node is graceful
  /// (it stays Terminating, and impersonable as upstream's index keeps it,
  /// until its kubelet confirms; test clusters have none).
  void delete_pod(const std::string& name) {
    auto r = cluster().kubectl({"delete", "pod", name, "-n", l.ns,
                                "--grace-period=0", "--force", "--wait=false"});
    CAF_REQUIRE_EQUAL(r.exit_code, 0);
  }

  /// Expects `request authenticate failure` with `reason` in the log.
  void expect_refused(const call_result& res, const std::string& reason) {
    CAF_CHECK_EQUAL(res.code, unauthenticated);
    CAF_CHECK_EQUAL(res.message, unauthenticated_message);
    CAF_CHECK(res.chain.empty());
    auto needle = logged(reason);
    bool seen = wait_until(
      [&] {
        auto& p = env.csr_agent->process();
        return contains(p.out() + p.err(), needle);
      },
      5s);
    if (!seen)
      CAF_FAIL("the agent did not log <" << needle << ">\n"
                                         << env.csr_agent->log_tail());
  }

  /// Calls until the outcome is `ok` (or 1 s after `since` passes): each
  /// call starts before the deadline. Returns whether it got there.
  bool within_a_second(std::chrono::steady_clock::time_point since,
                       const std::string& token, const std::string& target,
                       bool ok) {
    while (std::chrono::steady_clock::now() - since < 1s) {
      auto res = impersonate(token, target);
      if (res.ok() == ok)
        return true;
      if (!ok)
        CAF_CHECK(res.ok());
      else
        CAF_CHECK_EQUAL(res.code, unauthenticated);
    }
    return false;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(ambient_e2e_tests, fixture)

CAF_TEST(the ztunnel on node A obtains the certificate of a workload on A) {
  if (!cluster().is_devcluster())
    CAF_MESSAGE("note: pods bound to nodes that do not exist may be "
                "garbage-collected by a real cluster's PodGC");
  auto target = id("wl-a");
  auto csr = make_csr(target);
  auto res
    = impersonate_with(bound_token("ztunnel", "ztunnel-a"), target, csr.pem);
  if (!res.ok())
    CAF_FAIL(res.describe() << "\n" << env.csr_agent->log_tail());
  CAF_REQUIRE_GREATER(res.chain.size(), 1u);
  auto chain = parse_response(res.chain);
  // The leaf certifies the CSR's key and carries the workload's identity,
  // not ztunnel's.
  CAF_CHECK(chain.leaf.matches(csr.key));
  auto sans = chain.leaf.sans();
  CAF_CHECK_EQUAL(sans.uris, std::vector<std::string>{target});
  // The CertificateRequest (preserved) is annotated with it.
  auto cr = find_request(cluster(), csr.pem);
  CAF_REQUIRE(cr.has_value());
  CAF_CHECK_EQUAL(
    (*cr)["metadata"]["annotations"].value(identities_annotation, ""), target);
  // Upstream's duration clamp applies as for any caller (max 5m).
  CAF_CHECK_EQUAL((*cr)["spec"].value("duration", ""), "5m0s");
}

CAF_TEST(a workload on node B is refused) {
  auto res = impersonate(bound_token("ztunnel", "ztunnel-a"), id("wl-b"));
  expect_refused(res, "no instances of \"" + l.ns + "/wl-b\" found on node \""
                        + l.node_a + "\"");
}

CAF_TEST(an untrusted caller is refused) {
  auto res = impersonate(bound_token("untrusted", "untrusted-a"), id("wl-a"));
  expect_refused(res, "ServiceAccount: untrusted}) is not allowed to "
                      "impersonate");
}

CAF_TEST(a CSR carrying the ztunnel identity is refused) {
  auto res = impersonate(bound_token("ztunnel", "ztunnel-a"), id("wl-a"),
                         id("ztunnel"));
  expect_refused(res, "identity_mismatch");
}

CAF_TEST(an identity of a foreign trust domain is refused) {
  auto target = "spiffe://other.domain/ns/" + l.ns + "/sa/wl-a";
  auto res = impersonate(bound_token("ztunnel", "ztunnel-a"), target);
  expect_refused(res, "identity \"" + target
                        + "\" is not in the trust domain \"foo.bar\"");
}

CAF_TEST(a token not bound to a pod cannot impersonate) {
  auto r = cluster().kubectl(
    {"create", "token", "ztunnel", "-n", l.ns, "--audience", "istio-ca"});
  CAF_REQUIRE_EQUAL(r.exit_code, 0);
  auto token = r.out.substr(0, r.out.find('\n'));
  auto res = impersonate(token, id("wl-a"));
  expect_refused(res, "pod " + l.ns + "/ not found");
}

CAF_TEST(a workload added to node A is requestable within a second) {
  auto token = bound_token("ztunnel", "ztunnel-a");
  auto target = id("wl-new");
  auto first = impersonate(token, target);
  CAF_CHECK_EQUAL(first.code, unauthenticated);
  create_pod("wl-new", "wl-new", l.node_a);
  auto created = std::chrono::steady_clock::now();
  CAF_CHECK(within_a_second(created, token, target, true));
  delete_pod("wl-new");
  auto deleted = std::chrono::steady_clock::now();
  CAF_CHECK(within_a_second(deleted, token, target, false));
  auto after = impersonate(token, target);
  CAF_CHECK_EQUAL(after.code, unauthenticated);
}

CAF_TEST(a failed pod does not count) {
  auto token = bound_token("ztunnel", "ztunnel-a");
  auto target = id("wl-failed");
  create_pod("wl-failed", "wl-failed", l.node_a);
  CAF_REQUIRE(
    within_a_second(std::chrono::steady_clock::now(), token, target, true));
  auto r = cluster().kubectl({"patch", "pod", "wl-failed", "-n", l.ns,
                              "--subresource=status", "--type=merge", "-p",
                              R"({"status":{"phase":"Failed"}})"});
  CAF_REQUIRE_EQUAL(r.exit_code, 0);
  auto phase = kubectl_json(cluster(), {"get", "pod", "wl-failed", "-n", l.ns});
  CAF_REQUIRE_EQUAL(phase["status"].value("phase", ""), "Failed");
  CAF_CHECK(
    within_a_second(std::chrono::steady_clock::now(), token, target, false));
  expect_refused(impersonate(token, target), "no instances of \"" + l.ns
                                               + "/wl-failed\" found on node \""
                                               + l.node_a + "\"");
}

CAF_TEST(a recreated ztunnel pod needs a renewed token) {
  auto old_token = bound_token("ztunnel", "ztunnel-b");
  auto target = id("wl-a");
  CAF_REQUIRE(impersonate(old_token, target).ok());
  auto before
    = kubectl_json(cluster(), {"get", "pod", "ztunnel-b", "-n", l.ns});
  delete_pod("ztunnel-b");
  create_pod("ztunnel-b", "ztunnel", l.node_a);
  auto after = kubectl_json(cluster(), {"get", "pod", "ztunnel-b", "-n", l.ns});
  CAF_REQUIRE_NOT_EQUAL(before["metadata"].value("uid", ""),
                        after["metadata"].value("uid", ""));
  // The old token names the old uid: refused (devcluster's TokenReview
  // already rejects it; a real API server may accept it for ~10 s, then our
  // uid check refuses it).
  auto res = impersonate(old_token, target);
  CAF_CHECK_EQUAL(res.code, unauthenticated);
  // A renewed token works once the new pod is indexed.
  auto new_token = bound_token("ztunnel", "ztunnel-b");
  CAF_CHECK(
    wait_until([&] { return impersonate(new_token, target).ok(); }, 10s, 50ms));
}

CAF_TEST(client certificate callers cannot impersonate) {
  // ztunnel's own certificate, then a call with it and no token.
  auto own = make_csr(id("ztunnel"));
  call_options opts;
  opts.token = bound_token("ztunnel", "ztunnel-a");
  auto issued
    = create_certificate(env.csr_agent->address(), env.root_pem, own.pem, opts);
  CAF_REQUIRE(issued.ok());
  call_options cert;
  cert.token = std::string{};
  cert.client_cert_pem = issued.chain.front();
  cert.client_key_pem = own.key.to_pem();
  cert.metadata = {{"ImpersonatedIdentity", id("wl-a")}};
  auto res = create_certificate(env.csr_agent->address(), env.root_pem,
                                make_csr(id("wl-a")).pem, cert);
  expect_refused(res, "caller (Pod{Name: , Namespace: , UID: , "
                      "ServiceAccount: }) is not allowed to impersonate");
}

CAF_TEST(csrctl impersonates with a pod bound token) {
  auto ok = csrctl_as_ztunnel("request", {"--bound-pod", "ztunnel-a"});
  CAF_CHECK_EQUAL(ok.exit_code, 0);
  CAF_CHECK(contains(ok.out, "identity: " + id("wl-a") + "\n"));
  CAF_CHECK(contains(ok.out, "verified to the root bundle"));
  // Without a pod-bound token there is no caller pod.
  auto unbound = csrctl_as_ztunnel("request", {});
  CAF_CHECK_EQUAL(unbound.exit_code, 1);
  CAF_CHECK(contains(unbound.err,
                     "error: UNAUTHENTICATED: request authenticate "
                     "failure"));
}

CAF_TEST(csrctl load impersonates with a pod bound token) {
  auto res
    = csrctl_as_ztunnel("load", {"--bound-pod", "ztunnel-a", "--count", "4",
                                 "--concurrency", "2", "--verify", "--json"});
  CAF_CHECK_EQUAL(res.exit_code, 0);
  auto j = json::parse(res.out, nullptr, false);
  CAF_REQUIRE(j.is_object());
  CAF_CHECK_EQUAL(j["ok"], 4);
  CAF_CHECK_EQUAL(j["verify_failed"], 0);
  CAF_CHECK_EQUAL(j["settings"]["impersonate"], true);
}

CAF_TEST(readiness names the pod index and invalid entries are logged) {
  auto port = env.csr_agent->readiness_port();
  CAF_CHECK_EQUAL(http_status(port, "/readyz/pod_index"), 200);
  auto& p = env.csr_agent->process();
  CAF_CHECK(contains(p.out() + p.err(), "no-slash-entry"));
}

CAF_TEST(an agent without trusted node accounts refuses impersonation) {
  agent_settings s;
  s.trust_domain = env.settings.trust_domain;
  std::string why;
  auto plain = start_agent(cluster(), s, why);
  CAF_REQUIRE(plain != nullptr);
  call_options opts;
  opts.token = bound_token("ztunnel", "ztunnel-a");
  opts.metadata = {{"ImpersonatedIdentity", id("wl-a")}};
  auto res = create_certificate(plain->address(), env.root_pem,
                                make_csr(id("wl-a")).pem, opts);
  CAF_CHECK_EQUAL(res.code, unauthenticated);
  CAF_CHECK_EQUAL(res.message, unauthenticated_message);
  CAF_CHECK(wait_until(
    [&] {
      auto& p = plain->process();
      return contains(p.out() + p.err(), "node authorizer");
    },
    5s));
  // Its readiness has no pod index check.
  CAF_CHECK_EQUAL(http_status(plain->readiness_port(), "/readyz/pod_index"),
                  404);
}

CAF_TEST_FIXTURE_SCOPE_END()
