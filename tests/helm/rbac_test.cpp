#define CAF_SUITE helm.rbac
#include "caf/test/unit_test.hpp"

#include <sstream>

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

std::string join(const strings_t& xs) {
  std::string out;
  for (const auto& x : xs)
    out += (out.empty() ? "" : ",") + x;
  return out;
}

/// One line per rule: "groups|resources|verbs[|resourceNames]".
strings_t rules_of(const YAML::Node& role) {
  strings_t out;
  for (const auto& rule : role["rules"]) {
    auto line = join(strings(rule["apiGroups"])) + "|"
                + join(strings(rule["resources"])) + "|"
                + join(strings(rule["verbs"]));
    if (rule["resourceNames"])
      line += "|" + join(strings(rule["resourceNames"]));
    out.push_back(line);
  }
  return out;
}

/// Checks that `binding` binds `role_kind`/`role_name` to the chart's
/// ServiceAccount in the release namespace.
void check_binding(const YAML::Node& binding, const std::string& role_kind,
                   const std::string& role_name) {
  CAF_REQUIRE(binding);
  CAF_CHECK_EQUAL(str(binding["apiVersion"]), "rbac.authorization.k8s.io/v1");
  CAF_CHECK_EQUAL(str(binding["roleRef"]["apiGroup"]),
                  "rbac.authorization.k8s.io");
  CAF_CHECK_EQUAL(str(binding["roleRef"]["kind"]), role_kind);
  CAF_CHECK_EQUAL(str(binding["roleRef"]["name"]), role_name);
  CAF_REQUIRE_EQUAL(binding["subjects"].size(), 1u);
  auto s = binding["subjects"][0];
  CAF_CHECK_EQUAL(str(s["kind"]), "ServiceAccount");
  CAF_CHECK_EQUAL(str(s["name"]), name);
  CAF_CHECK_EQUAL(str(s["namespace"]), "cert-manager");
}

const std::string configmaps = "|configmaps|get,list,create,update,watch";
const std::string tokenreviews = "authentication.k8s.io|tokenreviews|create";
const std::string certificaterequests
  = "cert-manager.io|certificaterequests|get,list,create,update,delete,watch";
const std::string events = "|events|create";

} // namespace

CAF_TEST(default rbac is upstream rbac) {
  auto r = must_render("");
  auto cr = r.find("ClusterRole", name);
  CAF_REQUIRE(cr);
  CAF_CHECK(!cr["metadata"]["namespace"]);
  check_same_list(rules_of(cr),
                  {configmaps, "|namespaces|get,list,watch", tokenreviews},
                  "ClusterRole rules");
  check_binding(r.find("ClusterRoleBinding", name), "ClusterRole", name);
  auto role = r.find("Role", name, "istio-system");
  CAF_REQUIRE(role);
  check_same_list(rules_of(role), {certificaterequests, events}, "Role rules");
  check_binding(r.find("RoleBinding", name, "istio-system"), "Role", name);
  auto leases = r.find("Role", name + "-leases", "istio-system");
  CAF_REQUIRE(leases);
  check_same_list(
    rules_of(leases),
    {"coordination.k8s.io|leases|get,create,update,watch,list", events},
    "leases Role rules");
  check_binding(r.find("RoleBinding", name + "-leases", "istio-system"), "Role",
                name + "-leases");
}

CAF_TEST(roles follow their namespaces) {
  auto r = must_render("app:\n"
                       "  certmanager:\n    namespace: certs\n"
                       "  controller:\n    leaderElectionNamespace: leases\n"
                       "  istio:\n    namespace: mesh\n"
                       "  tls:\n    istiodCertificateEnable: dynamic\n");
  CAF_CHECK(r.has("Role", name, "certs"));
  CAF_CHECK(r.has("RoleBinding", name, "certs"));
  CAF_CHECK(r.has("Role", name + "-leases", "leases"));
  CAF_CHECK(r.has("RoleBinding", name + "-leases", "leases"));
  CAF_CHECK(r.has("Role", name + "-dynamic-istiod", "mesh"));
  CAF_CHECK(r.has("RoleBinding", name + "-dynamic-istiod", "mesh"));
}

CAF_TEST(trusted node accounts grant reading pods) {
  auto r = must_render(
    "", {values_file("e2e.yaml"), values_file("e2e-ambient.yaml")});
  check_same_list(rules_of(r.find("ClusterRole", name)),
                  {configmaps, "|namespaces,pods|get,list,watch", tokenreviews},
                  "ClusterRole rules");
}

CAF_TEST(the dynamic istiod certificate brings its rbac) {
  auto r = must_render("app:\n  tls:\n    istiodCertificateEnable: dynamic\n");
  check_same_list(rules_of(r.find("ClusterRole", name)),
                  {configmaps, "|namespaces|get,list,watch", tokenreviews,
                   "cert-manager.io|certificates|list,get,watch"},
                  "ClusterRole rules");
  auto role = r.find("Role", name + "-dynamic-istiod", "istio-system");
  CAF_REQUIRE(role);
  check_same_list(
    rules_of(role),
    {"cert-manager.io|certificates|get,create,update,delete,watch,list"},
    "dynamic-istiod Role rules");
  check_binding(r.find("RoleBinding", name + "-dynamic-istiod", "istio-system"),
                "Role", name + "-dynamic-istiod");
}

CAF_TEST(without dynamic there is no dangling dynamic istiod binding) {
  // Upstream renders this RoleBinding always; we render it with its Role.
  for (auto v : {"true", "false"}) {
    auto r = must_render(std::string{"app:\n  tls:\n    "
                                     "istiodCertificateEnable: "}
                         + v + "\n");
    if (r.has("Role", name + "-dynamic-istiod")
        || r.has("RoleBinding", name + "-dynamic-istiod"))
      CAF_ERROR("istiodCertificateEnable " << v
                                           << " renders dynamic istiod rbac");
    for (const auto& rule : rules_of(r.find("ClusterRole", name)))
      if (rule.find("certificates|") != std::string::npos
          && rule.find("certificaterequests") == std::string::npos)
        CAF_ERROR("istiodCertificateEnable " << v << " grants " << rule);
  }
}

CAF_TEST(a runtime configuration name adds the upstream configmap rule) {
  auto r = must_render("", {values_file("e2e.yaml")});
  check_same_list(rules_of(r.find("Role", name, "istio-system")),
                  {certificaterequests, events,
                   "|configmaps|get,list,watch|runtime-config-map"},
                  "Role rules");
  auto created = must_render("app:\n  runtimeConfiguration:\n"
                             "    create: true\n");
  check_same_list(
    rules_of(created.find("Role", name, "istio-system")),
    {certificaterequests, events, "|configmaps|get,list,watch|" + name},
    "Role rules");
}
