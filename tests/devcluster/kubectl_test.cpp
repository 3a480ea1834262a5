// devcluster checked with kubectl (v1.32) as an independent client.
#define CAF_SUITE devcluster.kubectl
#include "caf/test/unit_test.hpp"

#include <csignal>

#include "tests/devcluster/fixture.hpp"

using namespace istio_csr::test;

namespace {

command_result kubectl(const std::vector<std::string>& args,
                       const std::string& stdin_data = {}) {
  return cluster().kubectl(args, stdin_data);
}

json kubectl_json(const std::vector<std::string>& args) {
  auto r = kubectl(args);
  CAF_CHECK_EQUAL(r.exit_code, 0);
  if (r.exit_code != 0)
    CAF_MESSAGE("kubectl failed: " << r.err);
  auto j = json::parse(r.out, nullptr, false);
  return j.is_discarded() ? json() : j;
}

/// A kubectl running in the background (e.g. `get -w`).
std::unique_ptr<child_process> kubectl_bg(std::vector<std::string> args) {
  std::vector<std::string> argv{program("kubectl"), "--kubeconfig",
                                cluster().kubeconfig()};
  argv.insert(argv.end(), args.begin(), args.end());
  return child_process::spawn(argv);
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    auto nl = text.find('\n', start);
    out.push_back(text.substr(start, nl - start));
    if (nl == std::string::npos)
      break;
    start = nl + 1;
  }
  return out;
}

} // namespace

CAF_TEST(get lists namespaces as json and as a table) {
  auto list = kubectl_json({"get", "namespaces", "-o", "json"});
  std::set<std::string> names;
  for (auto& item : list["items"])
    names.insert(item["metadata"]["name"].get<std::string>());
  for (auto* ns : {"default", "kube-system", "kube-public", "kube-node-lease"})
    CAF_CHECK(names.count(ns) == 1);
  if (cluster().is_devcluster()) {
    CAF_CHECK(names.count("istio-system") == 1);
    CAF_CHECK(names.count("cert-manager") == 1);
  }
  auto table = kubectl({"get", "namespace", "default"});
  CAF_CHECK_EQUAL(table.exit_code, 0);
  auto rows = lines(table.out);
  CAF_REQUIRE(rows.size() >= 2u);
  CAF_CHECK(rows[0].starts_with("NAME"));
  CAF_CHECK(rows[0].find("STATUS") != std::string::npos);
  CAF_CHECK(rows[0].find("AGE") != std::string::npos);
  CAF_CHECK(rows[1].starts_with("default"));
  CAF_CHECK(rows[1].find("Active") != std::string::npos);
  auto yaml = kubectl({"get", "namespace", "default", "-o", "yaml"});
  CAF_CHECK_EQUAL(yaml.exit_code, 0);
  CAF_CHECK(yaml.out.find("kind: Namespace") != std::string::npos);
  CAF_CHECK(yaml.out.find("kubernetes.io/metadata.name: default")
            != std::string::npos);
}

CAF_TEST(create label annotate patch select and delete a configmap) {
  auto ns = fresh_namespace("kc-crud");
  auto created = kubectl({"create", "-n", ns, "-f", "-"}, "apiVersion: v1\n"
                                                          "kind: ConfigMap\n"
                                                          "metadata:\n"
                                                          "  name: demo\n"
                                                          "  labels: {app: x}\n"
                                                          "data:\n"
                                                          "  a: b\n");
  CAF_CHECK_EQUAL(created.exit_code, 0);
  CAF_CHECK_EQUAL(created.out, "configmap/demo created\n");
  CAF_CHECK_EQUAL(
    kubectl({"label", "-n", ns, "cm", "demo", "env=prod"}).exit_code, 0);
  CAF_CHECK_EQUAL(
    kubectl({"annotate", "-n", ns, "cm", "demo", "note=hi"}).exit_code, 0);
  CAF_CHECK_EQUAL(kubectl({"patch", "-n", ns, "cm", "demo", "--type", "merge",
                           "-p", R"({"data":{"c":"d"}})"})
                    .exit_code,
                  0);
  auto obj = kubectl_json({"get", "-n", ns, "cm", "demo", "-o", "json"});
  CAF_CHECK_EQUAL(obj["kind"], "ConfigMap");
  CAF_CHECK_EQUAL(obj["metadata"]["labels"],
                  (json{{"app", "x"}, {"env", "prod"}}));
  CAF_CHECK_EQUAL(obj["metadata"]["annotations"]["note"], "hi");
  CAF_CHECK_EQUAL(obj["data"], (json{{"a", "b"}, {"c", "d"}}));
  auto by_label
    = kubectl({"get", "-n", ns, "cm", "-l", "env=prod", "-o", "name"});
  CAF_CHECK_EQUAL(by_label.out, "configmap/demo\n");
  auto by_set
    = kubectl({"get", "-n", ns, "cm", "-l", "env in (dev,test)", "-o", "name"});
  CAF_CHECK_EQUAL(by_set.exit_code, 0);
  CAF_CHECK_EQUAL(by_set.out, "");
  auto by_field = kubectl({"get", "-n", ns, "cm", "--field-selector",
                           "metadata.name=demo", "-o", "name"});
  CAF_CHECK_EQUAL(by_field.out, "configmap/demo\n");
  auto table = kubectl({"get", "-n", ns, "cm", "demo"});
  auto rows = lines(table.out);
  CAF_REQUIRE(rows.size() >= 2u);
  CAF_CHECK(rows[0].starts_with("NAME"));
  CAF_CHECK(rows[0].find("DATA") != std::string::npos);
  CAF_CHECK(rows[1].starts_with("demo"));
  CAF_CHECK(rows[1].find(" 2 ") != std::string::npos);
  // Remove a label again.
  CAF_CHECK_EQUAL(kubectl({"label", "-n", ns, "cm", "demo", "env-"}).exit_code,
                  0);
  obj = kubectl_json({"get", "-n", ns, "cm", "demo", "-o", "json"});
  CAF_CHECK_EQUAL(obj["metadata"]["labels"], (json{{"app", "x"}}));
  auto deleted = kubectl({"delete", "-n", ns, "cm", "demo"});
  CAF_CHECK_EQUAL(deleted.exit_code, 0);
  CAF_CHECK_EQUAL(deleted.out, "configmap \"demo\" deleted\n");
  auto gone = kubectl({"get", "-n", ns, "cm", "demo"});
  CAF_CHECK_NOT_EQUAL(gone.exit_code, 0);
  CAF_CHECK(gone.err.find("NotFound") != std::string::npos);
}

CAF_TEST(typed kubectl commands create namespaces secrets and accounts) {
  // kubectl's typed clients send protobuf bodies.
  auto ns = test_cluster::unique_name("kc-typed");
  CAF_CHECK_EQUAL(kubectl({"create", "namespace", ns}).exit_code, 0);
  CAF_CHECK_EQUAL(
    kubectl({"create", "serviceaccount", "-n", ns, "robot"}).exit_code, 0);
  CAF_CHECK_EQUAL(kubectl({"create", "secret", "generic", "-n", ns, "s",
                           "--from-literal=k=v"})
                    .exit_code,
                  0);
  CAF_CHECK_EQUAL(
    kubectl({"create", "configmap", "-n", ns, "c", "--from-literal=a=b"})
      .exit_code,
    0);
  auto secret = kubectl_json({"get", "-n", ns, "secret", "s", "-o", "json"});
  CAF_CHECK_EQUAL(secret["type"], "Opaque");
  CAF_CHECK_EQUAL(secret["data"]["k"], "dg=="); // base64("v")
  auto cm = kubectl_json({"get", "-n", ns, "cm", "c", "-o", "json"});
  CAF_CHECK_EQUAL(cm["data"]["a"], "b");
  auto sa = kubectl_json({"get", "-n", ns, "sa", "robot", "-o", "json"});
  CAF_CHECK(!sa["metadata"]["uid"].get<std::string>().empty());
  CAF_CHECK_EQUAL(
    kubectl({"delete", "namespace", ns, "--wait=false"}).exit_code, 0);
}

CAF_TEST(get with watch prints added modified and deleted events) {
  auto ns = fresh_namespace("kc-watch");
  auto watcher = kubectl_bg(
    {"get", "-n", ns, "configmaps", "-w", "--output-watch-events"});
  CAF_REQUIRE(watcher != nullptr);
  // The initial list: every namespace has the root CA ConfigMap.
  CAF_REQUIRE(watcher->wait_for_line("kube-root-ca.crt", 30s));
  CAF_CHECK_EQUAL(
    kubectl({"create", "configmap", "-n", ns, "w1", "--from-literal=a=b"})
      .exit_code,
    0);
  auto added = watcher->wait_for_line("w1", 30s);
  CAF_REQUIRE(added);
  CAF_CHECK(added->starts_with("ADDED"));
  CAF_CHECK_EQUAL(kubectl({"label", "-n", ns, "cm", "w1", "x=y"}).exit_code, 0);
  auto modified = watcher->wait_for_line("MODIFIED", 30s);
  CAF_REQUIRE(modified);
  CAF_CHECK(modified->find("w1") != std::string::npos);
  CAF_CHECK_EQUAL(kubectl({"delete", "-n", ns, "cm", "w1"}).exit_code, 0);
  auto deleted = watcher->wait_for_line("DELETED", 30s);
  CAF_REQUIRE(deleted);
  CAF_CHECK(deleted->find("w1") != std::string::npos);
  watcher->stop();
  // `-w -o json` prints every event's object as JSON.
  auto json_watcher
    = kubectl_bg({"get", "-n", ns, "configmaps", "-w", "-o", "json",
                  "--field-selector", "metadata.name=w2"});
  CAF_REQUIRE(json_watcher != nullptr);
  CAF_CHECK_EQUAL(
    kubectl({"create", "configmap", "-n", ns, "w2", "--from-literal=k=first"})
      .exit_code,
    0);
  CAF_CHECK(json_watcher->wait_for_line("\"first\"", 30s));
  json_watcher->stop();
}

CAF_TEST(create token and review it through kubectl) {
  auto ns = fresh_namespace("kc-token");
  auto token = kubectl(
    {"create", "token", "-n", ns, "default", "--audience", "istio-ca"});
  CAF_REQUIRE_EQUAL(token.exit_code, 0);
  auto jwt = token.out.substr(0, token.out.find('\n'));
  auto claims = jwt_claims(jwt);
  CAF_CHECK_EQUAL(claims["aud"], (json{"istio-ca"}));
  CAF_CHECK_EQUAL(claims["sub"], "system:serviceaccount:" + ns + ":default");
  json review{{"apiVersion", "authentication.k8s.io/v1"},
              {"kind", "TokenReview"},
              {"spec", {{"token", jwt}, {"audiences", {"istio-ca"}}}}};
  auto out = kubectl({"create", "-f", "-", "-o", "json"}, review.dump());
  CAF_REQUIRE_EQUAL(out.exit_code, 0);
  auto result = json::parse(out.out, nullptr, false);
  CAF_CHECK_EQUAL(result["status"]["authenticated"], true);
  CAF_CHECK_EQUAL(result["status"]["user"]["username"],
                  "system:serviceaccount:" + ns + ":default");
  CAF_CHECK_EQUAL(result["status"]["audiences"], (json{"istio-ca"}));
}

CAF_TEST(create token bound to a pod) {
  auto ns = fresh_namespace("kc-bound");
  create(core_path(ns, "pods"), pod("app"));
  auto token
    = kubectl({"create", "token", "-n", ns, "default", "--bound-object-kind",
               "Pod", "--bound-object-name", "app"});
  CAF_REQUIRE_EQUAL(token.exit_code, 0);
  auto claims = jwt_claims(token.out.substr(0, token.out.find('\n')));
  auto uid = kubectl(
    {"get", "-n", ns, "pod", "app", "-o", "jsonpath={.metadata.uid}"});
  CAF_CHECK_EQUAL(claims["kubernetes.io"]["pod"]["name"], "app");
  CAF_CHECK_EQUAL(claims["kubernetes.io"]["pod"]["uid"], uid.out);
  CAF_CHECK_EQUAL(claims["kubernetes.io"]["node"]["name"], node_name());
  auto missing
    = kubectl({"create", "token", "-n", ns, "default", "--bound-object-kind",
               "Pod", "--bound-object-name", "nope"});
  CAF_CHECK_NOT_EQUAL(missing.exit_code, 0);
  CAF_CHECK(missing.err.find("not found") != std::string::npos);
}

CAF_TEST(deleting a namespace goes through Terminating) {
  auto ns = fresh_namespace("kc-term");
  // A finalizer holds the namespace in Terminating until removed.
  auto held = config_map("held");
  held["metadata"]["finalizers"] = {"example.com/hold"};
  create(core_path(ns, "configmaps"), held);
  CAF_CHECK_EQUAL(
    kubectl({"delete", "namespace", ns, "--wait=false"}).exit_code, 0);
  auto phase
    = kubectl({"get", "namespace", ns, "-o", "jsonpath={.status.phase}"});
  CAF_CHECK_EQUAL(phase.out, "Terminating");
  auto refused = kubectl({"create", "configmap", "-n", ns, "late"});
  CAF_CHECK_NOT_EQUAL(refused.exit_code, 0);
  CAF_CHECK(refused.err.find("being terminated") != std::string::npos);
  CAF_CHECK(eventually([&] {
    return kubectl({"get", "-n", ns, "cm", "held", "-o",
                    "jsonpath={.metadata.deletionTimestamp}"})
             .out.size()
           > 0;
  }));
  CAF_CHECK_EQUAL(kubectl({"patch", "-n", ns, "cm", "held", "--type", "merge",
                           "-p", R"({"metadata":{"finalizers":null}})"})
                    .exit_code,
                  0);
  CAF_CHECK(eventually([&] {
    auto r = kubectl({"get", "namespace", ns});
    return r.exit_code != 0 && r.err.find("NotFound") != std::string::npos;
  }));
}

CAF_TEST(cert manager resources are discoverable) {
  auto resources = kubectl(
    {"api-resources", "--api-group", "cert-manager.io", "-o", "name"});
  CAF_CHECK_EQUAL(resources.exit_code, 0);
  for (auto* r :
       {"certificaterequests.cert-manager.io", "certificates.cert-manager.io",
        "issuers.cert-manager.io", "clusterissuers.cert-manager.io"})
    CAF_CHECK(resources.out.find(r) != std::string::npos);
  auto short_names = kubectl({"get", "cr", "-A"});
  CAF_CHECK_EQUAL(short_names.exit_code, 0);
  if (cluster().is_devcluster()) {
    auto issuer = kubectl({"get", "issuer", "-n", "istio-system", "istio-ca",
                           "-o", "jsonpath={.spec.ca.secretName}"});
    CAF_CHECK_EQUAL(issuer.out, "istio-ca");
    auto secret = kubectl({"get", "secret", "-n", "istio-system", "istio-ca",
                           "-o", "jsonpath={.type}"});
    CAF_CHECK_EQUAL(secret.out, "kubernetes.io/tls");
  }
}

CAF_TEST(auth whoami shows the user of a service account token) {
  auto ns = fresh_namespace("kc-whoami");
  auto token = kubectl({"create", "token", "-n", ns, "default"});
  CAF_REQUIRE_EQUAL(token.exit_code, 0);
  // Only the token: a kubeconfig's client certificate would win otherwise.
  temp_dir dir;
  auto ca = dir.write("ca.crt", client().access().ca_pem);
  auto empty = dir.write("kubeconfig", "apiVersion: v1\nkind: Config\n");
  auto whoami = run({program("kubectl"), "--kubeconfig", empty, "--server",
                     client().access().server, "--certificate-authority", ca,
                     "--token", token.out.substr(0, token.out.find('\n')),
                     "auth", "whoami", "-o", "json"});
  CAF_REQUIRE_EQUAL(whoami.exit_code, 0);
  auto review = json::parse(whoami.out, nullptr, false);
  CAF_CHECK_EQUAL(review["status"]["userInfo"]["username"],
                  "system:serviceaccount:" + ns + ":default");
  auto admin = kubectl({"auth", "can-i", "create", "configmaps", "-n", ns});
  CAF_CHECK_EQUAL(admin.out, "yes\n");
}
