#define CAF_SUITE helm.objects
#include "caf/test/unit_test.hpp"

#include "tests/helm/helm_chart.hpp"

using namespace istio_csr::test;
using namespace istio_csr::test::helm;

namespace {

using strings_t = std::vector<std::string>;

const std::string name = "cert-manager-istio-csr";

rendering must_render(const std::string& values,
                      const std::vector<std::string>& files = {}) {
  auto r = render(files, values);
  if (!r.ok())
    CAF_FAIL("helm template failed: " << r.result.err);
  return r;
}

/// The chart's common labels for release istio-csr.
void check_common_labels(const YAML::Node& labels, const std::string& what,
                         const std::string& app_name = name) {
  auto check = [&](const char* key, const std::string& want) {
    if (str(labels[key]) != want)
      CAF_ERROR(what << ": label " << key << " is '" << str(labels[key])
                     << "', want '" << want << "'");
  };
  check("app.kubernetes.io/name", app_name);
  check("app.kubernetes.io/instance", "istio-csr");
  check("app.kubernetes.io/version", "v0.1.0");
  check("app.kubernetes.io/managed-by", "Helm");
  check("helm.sh/chart", "cert-manager-istio-csr-0.1.0");
}

} // namespace

CAF_TEST(default values render upstream default objects) {
  auto r = must_render("");
  strings_t want{
    "Certificate istio-system/istiod",
    "ClusterRole " + name,
    "ClusterRoleBinding " + name,
    "Deployment cert-manager/" + name,
    "Role istio-system/" + name,
    "Role istio-system/" + name + "-leases",
    "RoleBinding istio-system/" + name,
    "RoleBinding istio-system/" + name + "-leases",
    "Service cert-manager/" + name,
    "Service cert-manager/" + name + "-metrics",
    "ServiceAccount cert-manager/" + name,
  };
  check_same_list(r.ids(), want, "objects");
  for (const auto& obj : r.objects)
    check_common_labels(obj["metadata"]["labels"], str(obj["kind"]));
}

CAF_TEST(the deployment selects its pods and runs as the service account) {
  auto r = must_render("");
  auto d = r.find("Deployment", name, "cert-manager");
  CAF_REQUIRE(d);
  auto spec = d["spec"];
  CAF_CHECK_EQUAL(str(spec["replicas"]), "1");
  CAF_CHECK_EQUAL(spec["selector"]["matchLabels"].size(), 1u);
  CAF_CHECK_EQUAL(str(spec["selector"]["matchLabels"]["app"]), name);
  auto pod = spec["template"];
  CAF_CHECK_EQUAL(str(pod["metadata"]["labels"]["app"]), name);
  check_common_labels(pod["metadata"]["labels"], "pod");
  CAF_CHECK_EQUAL(str(pod["spec"]["serviceAccountName"]), name);
  CAF_CHECK_EQUAL(str(pod["spec"]["nodeSelector"]["kubernetes.io/os"]),
                  "linux");
  auto c = pod["spec"]["containers"][0];
  CAF_CHECK_EQUAL(str(c["name"]), name);
  CAF_CHECK_EQUAL(str(c["imagePullPolicy"]), "IfNotPresent");
  CAF_REQUIRE_EQUAL(c["ports"].size(), 2u);
  CAF_CHECK_EQUAL(str(c["ports"][0]["containerPort"]), "6443");
  CAF_CHECK_EQUAL(str(c["ports"][1]["containerPort"]), "9402");
  auto probe = c["readinessProbe"];
  CAF_CHECK_EQUAL(str(probe["httpGet"]["port"]), "6060");
  CAF_CHECK_EQUAL(str(probe["httpGet"]["path"]), "/readyz");
  CAF_CHECK_EQUAL(str(probe["initialDelaySeconds"]), "3");
  CAF_CHECK_EQUAL(str(probe["periodSeconds"]), "7");
  CAF_CHECK(!c["livenessProbe"]);
  CAF_CHECK(!c["command"]);
  auto sc = c["securityContext"];
  CAF_CHECK_EQUAL(str(sc["allowPrivilegeEscalation"]), "false");
  CAF_CHECK_EQUAL(str(sc["readOnlyRootFilesystem"]), "true");
  CAF_CHECK_EQUAL(str(sc["runAsNonRoot"]), "true");
  CAF_CHECK_EQUAL(str(sc["capabilities"]["drop"][0]), "ALL");
  CAF_CHECK_EQUAL(str(sc["seccompProfile"]["type"]), "RuntimeDefault");
  // Kubernetes' default grace period (30 s) holds the binary's 25 s.
  CAF_CHECK(!pod["spec"]["terminationGracePeriodSeconds"]);
}

CAF_TEST(the pod grace period follows the shutdown grace period) {
  for (auto [value, seconds] :
       {std::pair{"40s", "45"}, {"1m", "65"}, {"1m30s", "95"}}) {
    auto r = must_render(
      std::string{"app:\n  server:\n    shutdownGracePeriod: "} + value + "\n");
    auto d = r.find("Deployment", name, "cert-manager");
    CAF_REQUIRE(d);
    CAF_CHECK_EQUAL(
      str(d["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]),
      seconds);
  }
}

CAF_TEST(the services expose grpc and metrics to the pods) {
  auto r = must_render("", {values_file("e2e.yaml")});
  auto svc = r.find("Service", name, "cert-manager");
  CAF_REQUIRE(svc);
  CAF_CHECK_EQUAL(str(svc["metadata"]["labels"]["app"]), name);
  CAF_CHECK_EQUAL(str(svc["spec"]["type"]), "NodePort");
  CAF_CHECK_EQUAL(str(svc["spec"]["selector"]["app"]), name);
  CAF_REQUIRE_EQUAL(svc["spec"]["ports"].size(), 1u);
  auto port = svc["spec"]["ports"][0];
  CAF_CHECK_EQUAL(str(port["name"]), "web");
  CAF_CHECK_EQUAL(str(port["port"]), "443");
  CAF_CHECK_EQUAL(str(port["targetPort"]), "6443");
  CAF_CHECK_EQUAL(str(port["protocol"]), "TCP");
  CAF_CHECK_EQUAL(str(port["nodePort"]), "30443");
  auto d = r.find("Deployment", name);
  CAF_CHECK_EQUAL(str(d["spec"]["replicas"]), "2");
  auto metrics = r.find("Service", name + "-metrics", "cert-manager");
  CAF_REQUIRE(metrics);
  CAF_CHECK_EQUAL(str(metrics["metadata"]["labels"]["app"]), name + "-metrics");
  CAF_CHECK_EQUAL(str(metrics["spec"]["type"]), "ClusterIP");
  CAF_CHECK_EQUAL(str(metrics["spec"]["selector"]["app"]), name);
  auto mport = metrics["spec"]["ports"][0];
  CAF_CHECK_EQUAL(str(mport["name"]), "metrics");
  CAF_CHECK_EQUAL(str(mport["port"]), "9402");
  CAF_CHECK_EQUAL(str(mport["targetPort"]), "9402");
  // No nodePort unless set.
  auto plain = must_render("");
  CAF_CHECK(!plain.find("Service", name)["spec"]["ports"][0]["nodePort"]);
}

CAF_TEST(metrics objects are conditional) {
  auto off
    = must_render("app:\n  metrics:\n    service:\n      enabled: false\n");
  CAF_CHECK(!off.has("Service", name + "-metrics"));
  CAF_CHECK(!off.has("ServiceMonitor", name));
  CAF_CHECK(!must_render("").has("ServiceMonitor", name));
  auto sm_values = "app:\n  metrics:\n    port: 9999\n    service:\n"
                   "      servicemonitor:\n        enabled: true\n"
                   "        prometheusInstance: ops\n        interval: 30s\n"
                   "        scrapeTimeout: 7s\n"
                   "        labels: {team: mesh}\n";
  auto r = must_render(sm_values);
  auto sm = r.find("ServiceMonitor", name, "cert-manager");
  CAF_REQUIRE(sm);
  CAF_CHECK_EQUAL(str(sm["apiVersion"]), "monitoring.coreos.com/v1");
  auto labels = sm["metadata"]["labels"];
  CAF_CHECK_EQUAL(str(labels["prometheus"]), "ops");
  CAF_CHECK_EQUAL(str(labels["team"]), "mesh");
  CAF_CHECK_EQUAL(str(labels["app"]), name);
  CAF_CHECK_EQUAL(str(sm["spec"]["jobLabel"]), name);
  CAF_CHECK_EQUAL(str(sm["spec"]["selector"]["matchLabels"]["app"]),
                  name + "-metrics");
  CAF_CHECK_EQUAL(str(sm["spec"]["namespaceSelector"]["matchNames"][0]),
                  "cert-manager");
  auto ep = sm["spec"]["endpoints"][0];
  CAF_CHECK_EQUAL(str(ep["targetPort"]), "9999");
  CAF_CHECK_EQUAL(str(ep["path"]), "/metrics");
  CAF_CHECK_EQUAL(str(ep["interval"]), "30s");
  CAF_CHECK_EQUAL(str(ep["scrapeTimeout"]), "7s");
  // The ServiceMonitor scrapes the metrics Service: not without it.
  auto no_svc = must_render("app:\n  metrics:\n    service:\n"
                            "      enabled: false\n"
                            "      servicemonitor:\n        enabled: true\n");
  CAF_CHECK(!no_svc.has("ServiceMonitor", name));
}

CAF_TEST(the pod disruption budget is conditional) {
  CAF_CHECK(!must_render("").has("PodDisruptionBudget", name));
  auto r = must_render("podDisruptionBudget:\n  enabled: true\n");
  auto pdb = r.find("PodDisruptionBudget", name, "cert-manager");
  CAF_REQUIRE(pdb);
  CAF_CHECK_EQUAL(str(pdb["apiVersion"]), "policy/v1");
  CAF_CHECK_EQUAL(str(pdb["spec"]["selector"]["matchLabels"]["app"]), name);
  CAF_CHECK_EQUAL(str(pdb["spec"]["maxUnavailable"]), "1");
  CAF_CHECK(!pdb["spec"]["minAvailable"]);
  // minAvailable wins over the maxUnavailable default (both are invalid).
  auto min = must_render("podDisruptionBudget:\n  enabled: true\n"
                         "  minAvailable: 50%\n")
               .find("PodDisruptionBudget", name);
  CAF_CHECK_EQUAL(str(min["spec"]["minAvailable"]), "50%");
  CAF_CHECK(!min["spec"]["maxUnavailable"]);
}

CAF_TEST(the runtime configuration configmap is conditional) {
  CAF_CHECK(!must_render("").has("ConfigMap", name));
  auto r = must_render("app:\n  runtimeConfiguration:\n    create: true\n"
                       "    issuer:\n      name: other\n"
                       "      kind: ClusterIssuer\n      group: example.io\n");
  auto cm = r.find("ConfigMap", name, "cert-manager");
  CAF_REQUIRE(cm);
  CAF_CHECK_EQUAL(str(cm["metadata"]["labels"]["app"]), name);
  CAF_CHECK_EQUAL(cm["data"].size(), 3u);
  CAF_CHECK_EQUAL(str(cm["data"]["issuer-name"]), "other");
  CAF_CHECK_EQUAL(str(cm["data"]["issuer-kind"]), "ClusterIssuer");
  CAF_CHECK_EQUAL(str(cm["data"]["issuer-group"]), "example.io");
  auto named = must_render("", {values_file("pure-runtime.yaml")});
  auto cm2 = named.find("ConfigMap", "runtime-config-map", "cert-manager");
  CAF_REQUIRE(cm2);
  CAF_CHECK_EQUAL(str(cm2["data"]["issuer-name"]), "istio-ca");
  // A name without create: the ConfigMap is the user's.
  auto e2e = must_render("", {values_file("e2e.yaml")});
  CAF_CHECK(!e2e.has("ConfigMap", "runtime-config-map"));
}

CAF_TEST(nameOverride renames every object and reference) {
  auto r = must_render("nameOverride: icsr\n");
  strings_t want{
    "Certificate istio-system/istiod",  "ClusterRole icsr",
    "ClusterRoleBinding icsr",          "Deployment cert-manager/icsr",
    "Role istio-system/icsr",           "Role istio-system/icsr-leases",
    "RoleBinding istio-system/icsr",    "RoleBinding istio-system/icsr-leases",
    "Service cert-manager/icsr",        "Service cert-manager/icsr-metrics",
    "ServiceAccount cert-manager/icsr",
  };
  check_same_list(r.ids(), want, "objects");
  for (const auto& obj : r.objects)
    check_common_labels(obj["metadata"]["labels"], str(obj["kind"]), "icsr");
  auto pod = r.find("Deployment", "icsr")["spec"]["template"];
  CAF_CHECK_EQUAL(str(pod["spec"]["serviceAccountName"]), "icsr");
  CAF_CHECK_EQUAL(str(pod["metadata"]["labels"]["app"]), "icsr");
  CAF_CHECK_EQUAL(str(r.find("Service", "icsr")["spec"]["selector"]["app"]),
                  "icsr");
  auto crb = r.find("ClusterRoleBinding", "icsr");
  CAF_CHECK_EQUAL(str(crb["roleRef"]["name"]), "icsr");
  CAF_CHECK_EQUAL(str(crb["subjects"][0]["name"]), "icsr");
}

CAF_TEST(labels annotations and pod settings come from values) {
  auto r = must_render("commonLabels: {team: mesh}\n"
                       "deploymentLabels: {d: dl}\n"
                       "deploymentAnnotations: {da: dv}\n"
                       "podLabels: {p: pl}\n"
                       "podAnnotations: {pa: pv}\n"
                       "imagePullSecrets: [{name: pull}]\n"
                       "priorityClassName: system-cluster-critical\n"
                       "tolerations: [{key: k, operator: Exists}]\n"
                       "volumes: [{name: roots, secret: {secretName: r}}]\n"
                       "volumeMounts: [{name: roots, mountPath: /etc/roots}]\n"
                       "resources: {limits: {cpu: 100m}}\n");
  for (const auto& obj : r.objects)
    if (str(obj["metadata"]["labels"]["team"]) != "mesh")
      CAF_ERROR(str(obj["kind"]) << " lacks commonLabels");
  auto d = r.find("Deployment", name);
  CAF_CHECK_EQUAL(str(d["metadata"]["labels"]["d"]), "dl");
  CAF_CHECK_EQUAL(str(d["metadata"]["annotations"]["da"]), "dv");
  auto pod = d["spec"]["template"];
  CAF_CHECK_EQUAL(str(pod["metadata"]["labels"]["p"]), "pl");
  CAF_CHECK_EQUAL(str(pod["metadata"]["labels"]["team"]), "mesh");
  CAF_CHECK_EQUAL(str(pod["metadata"]["annotations"]["pa"]), "pv");
  // Extra pod labels never reach the selector (it is immutable).
  CAF_CHECK_EQUAL(d["spec"]["selector"]["matchLabels"].size(), 1u);
  auto ps = pod["spec"];
  CAF_CHECK_EQUAL(str(ps["imagePullSecrets"][0]["name"]), "pull");
  CAF_CHECK_EQUAL(str(ps["priorityClassName"]), "system-cluster-critical");
  CAF_CHECK_EQUAL(str(ps["tolerations"][0]["key"]), "k");
  CAF_CHECK_EQUAL(str(ps["volumes"][0]["secret"]["secretName"]), "r");
  auto c = ps["containers"][0];
  CAF_CHECK_EQUAL(str(c["volumeMounts"][0]["mountPath"]), "/etc/roots");
  CAF_CHECK_EQUAL(str(c["resources"]["limits"]["cpu"]), "100m");
  auto sa = r.find("ServiceAccount", name);
  CAF_CHECK_EQUAL(str(sa["imagePullSecrets"][0]["name"]), "pull");
}

CAF_TEST(extra objects are rendered with tpl) {
  auto r = must_render(
    "extraObjects:\n"
    "- |\n"
    "  apiVersion: v1\n"
    "  kind: ConfigMap\n"
    "  metadata:\n"
    "    name: '{{ include \"cert-manager-istio-csr.name\" . }}-extra'\n"
    "    namespace: '{{ .Release.Namespace }}'\n"
    "  ---\n"
    "  apiVersion: v1\n"
    "  kind: ConfigMap\n"
    "  metadata:\n"
    "    name: '{{ template \"cert-manager-istio-csr.fullname\" . }}-two'\n");
  CAF_CHECK(r.has("ConfigMap", name + "-extra", "cert-manager"));
  CAF_CHECK(r.has("ConfigMap", name + "-two"));
}
