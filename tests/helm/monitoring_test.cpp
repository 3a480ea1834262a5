#define CAF_SUITE helm.monitoring
#include "caf/test/unit_test.hpp"

#include <regex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/helm/helm_chart.hpp"

using namespace istio_csr::test;
using namespace istio_csr::test::helm;

// The opt-in Grafana dashboard and PrometheusRule (app.metrics.dashboard,
// app.metrics.prometheusRule): rendered only when enabled; the dashboard is
// JSON; the rules that `helm template` renders pass `promtool check rules`
// and the unit tests of tests/helm/prometheus/alerts_test.yaml.

namespace {

const std::string name = "cert-manager-istio-csr";

const std::string both_on = "app:\n  metrics:\n"
                            "    dashboard:\n      enabled: true\n"
                            "    prometheusRule:\n      enabled: true\n";

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

rendering must_render(const std::string& values) {
  auto r = render_values(values);
  if (!r.ok())
    CAF_FAIL("helm template failed: " << r.result.err);
  return r;
}

/// The dashboard JSON of a rendering's ConfigMap (fails the test if absent
/// or not JSON).
nlohmann::json dashboard_of(const rendering& r, const std::string& ns) {
  auto cm = r.find("ConfigMap", name + "-dashboard", ns);
  CAF_REQUIRE(cm);
  auto text = str(cm["data"]["istio-csr.json"]);
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded())
    CAF_FAIL("the dashboard is not JSON:\n" << text.substr(0, 500));
  return j;
}

/// Every PromQL expression of the dashboard.
std::vector<std::string> dashboard_exprs(const nlohmann::json& d) {
  std::vector<std::string> out;
  for (const auto& p : d["panels"])
    for (const auto& t : p["targets"])
      out.push_back(t.value("expr", ""));
  return out;
}

/// Every alert expression of a PrometheusRule.
std::vector<std::string> rule_exprs(const YAML::Node& rule) {
  std::vector<std::string> out;
  for (const auto& g : rule["spec"]["groups"])
    for (const auto& r : g["rules"])
      out.push_back(str(r["expr"]));
  return out;
}

/// The metric names listed in docs/metrics.md, section "Alerts and
/// dashboard", list "Metric names used" (one "- `name`" per line).
std::set<std::string> documented_names() {
  auto doc = read_file(source_path("docs/metrics.md"));
  auto start = doc.find("## Alerts and dashboard");
  CAF_REQUIRE(start != std::string::npos);
  auto list = doc.find("### Metric names used", start);
  CAF_REQUIRE(list != std::string::npos);
  auto end = doc.find("\n#", list + 4);
  std::istringstream in{doc.substr(list, end - list)};
  std::set<std::string> out;
  std::string line;
  std::regex item{R"(^- `([a-z_:][a-z0-9_:]*)`)"};
  std::smatch m;
  while (std::getline(in, line))
    if (std::regex_search(line, m, item))
      out.insert(m[1].str());
  return out;
}

/// The metric names an expression uses (families of ours, upstream's,
/// istiod's and controller-runtime's; histogram suffixes removed).
std::set<std::string> names_in(const std::string& expr) {
  static const std::regex metric{
    R"(\b((?:cert_manager_istio_csr|istio_csr|citadel|leader_election|)"
    R"(controller_runtime)_[a-z0-9_]+))"};
  std::set<std::string> out;
  for (std::sregex_iterator it{expr.begin(), expr.end(), metric}, end;
       it != end; ++it) {
    auto n = (*it)[1].str();
    for (std::string suffix : {"_bucket", "_count", "_sum"})
      if (n.ends_with(suffix) && n.find("_seconds") != std::string::npos)
        n.resize(n.size() - suffix.size());
    out.insert(n);
  }
  return out;
}

} // namespace

CAF_TEST(neither is rendered by default) {
  for (auto values : {std::string{}, std::string{"app:\n  metrics:\n"
                                                 "    service:\n"
                                                 "      servicemonitor:\n"
                                                 "        enabled: true\n"}}) {
    auto r = must_render(values);
    CAF_CHECK(!r.has("ConfigMap", name + "-dashboard", "cert-manager"));
    for (const auto& id : r.ids())
      CAF_CHECK(!contains(id, "PrometheusRule"));
  }
}

CAF_TEST(each is rendered only when enabled) {
  auto dash = must_render("app:\n  metrics:\n    dashboard:\n"
                          "      enabled: true\n");
  CAF_CHECK(dash.has("ConfigMap", name + "-dashboard", "cert-manager"));
  CAF_CHECK(!dash.has("PrometheusRule", name, "cert-manager"));
  auto rule = must_render("app:\n  metrics:\n    prometheusRule:\n"
                          "      enabled: true\n");
  CAF_CHECK(!rule.has("ConfigMap", name + "-dashboard", "cert-manager"));
  CAF_CHECK(rule.has("PrometheusRule", name, "cert-manager"));
  // Both, and nothing else changes.
  auto both = must_render(both_on);
  auto plain = must_render("");
  auto ids = plain.ids();
  ids.push_back("ConfigMap cert-manager/" + name + "-dashboard");
  ids.push_back("PrometheusRule cert-manager/" + name);
  std::sort(ids.begin(), ids.end());
  check_same_list(both.ids(), ids, "objects");
}

CAF_TEST(both lint cleanly) {
  auto res = lint({}, both_on);
  if (res.exit_code != 0)
    CAF_ERROR("helm lint --strict failed:\n" << res.out << res.err);
  auto custom = lint({}, "app:\n  metrics:\n"
                         "    dashboard:\n      enabled: true\n"
                         "      namespace: monitoring\n"
                         "      annotations:\n        grafana_folder: Istio\n"
                         "    prometheusRule:\n      enabled: true\n"
                         "      selector: job=\"ca\"\n");
  CAF_CHECK_EQUAL(custom.exit_code, 0);
}

CAF_TEST(the schema checks the new values) {
  auto bad = render_values("app:\n  metrics:\n    dashboard:\n"
                           "      enabled: yes please\n");
  CAF_CHECK_NOT_EQUAL(bad.result.exit_code, 0);
  auto unknown = render_values("app:\n  metrics:\n    prometheusRule:\n"
                               "      enabeld: true\n");
  CAF_CHECK_NOT_EQUAL(unknown.result.exit_code, 0);
  CAF_CHECK(contains(unknown.result.err, "enabeld"));
}

CAF_TEST(the dashboard configmap is what grafana loads) {
  auto r = must_render("app:\n  metrics:\n    dashboard:\n"
                       "      enabled: true\n      namespace: monitoring\n"
                       "      labels:\n        team: mesh\n"
                       "      annotations:\n        grafana_folder: Istio\n");
  auto cm = r.find("ConfigMap", name + "-dashboard", "monitoring");
  CAF_REQUIRE(cm);
  auto labels = cm["metadata"]["labels"];
  CAF_CHECK_EQUAL(str(labels["grafana_dashboard"]), "1");
  CAF_CHECK(labels["grafana_dashboard"].Tag() != "tag:yaml.org,2002:int");
  CAF_CHECK_EQUAL(str(labels["team"]), "mesh");
  CAF_CHECK_EQUAL(str(labels["app.kubernetes.io/instance"]), "istio-csr");
  CAF_CHECK_EQUAL(str(cm["metadata"]["annotations"]["grafana_folder"]),
                  "Istio");
  // The ConfigMap holds the chart's file, byte for byte (but the final
  // newline).
  auto file = read_file(source_path("helm/istio-csr/files/"
                                    "grafana-dashboard.json"));
  while (!file.empty() && file.back() == '\n')
    file.pop_back();
  CAF_CHECK(str(cm["data"]["istio-csr.json"]) == file);
}

CAF_TEST(the dashboard parses and has the panels) {
  auto d = dashboard_of(
    must_render("app:\n  metrics:\n    dashboard:\n      enabled: true\n"),
    "cert-manager");
  CAF_CHECK_EQUAL(d.value("uid", ""), "istio-csr");
  std::set<std::string> titles;
  std::set<int> ids;
  for (const auto& p : d["panels"]) {
    titles.insert(p.value("title", ""));
    ids.insert(p.value("id", 0));
    CAF_CHECK(p.contains("gridPos"));
    CAF_CHECK(!p["targets"].empty());
    for (const auto& t : p["targets"])
      if (t.value("expr", "").empty())
        CAF_ERROR("panel " << p.value("title", "") << ": a target has no expr");
  }
  CAF_CHECK_EQUAL(ids.size(), d["panels"].size());
  for (auto want :
       {"Requests by gRPC code", "Error ratio", "Request latency",
        "Issuer wait", "In flight", "Actor restarts", "Root CA expires in",
        "Serving certificate expires in", "Leader"})
    if (titles.count(want) == 0)
      CAF_ERROR("no panel '" << want << "'");
  // Data source and job are variables.
  std::set<std::string> vars;
  for (const auto& v : d["templating"]["list"])
    vars.insert(v.value("name", ""));
  CAF_CHECK_EQUAL(vars, (std::set<std::string>{"datasource", "job"}));
  for (const auto& e : dashboard_exprs(d))
    if (!contains(e, "job=~\"$job\""))
      CAF_ERROR("not filtered by $job: " << e);
}

CAF_TEST(the prometheus rule passes promtool check and its unit tests) {
  auto promtool = find_program("promtool");
  if (promtool.empty())
    CAF_FAIL("promtool not found ($PROMTOOL, tools/promtool, $PATH): run "
             "'make deps' (Debian package prometheus)");
  auto r = must_render("app:\n  metrics:\n    prometheusRule:\n"
                       "      enabled: true\n");
  auto rule = r.find("PrometheusRule", name, "cert-manager");
  CAF_REQUIRE(rule);
  CAF_CHECK_EQUAL(str(rule["apiVersion"]), "monitoring.coreos.com/v1");
  CAF_CHECK_EQUAL(str(rule["metadata"]["labels"]["prometheus"]), "default");
  std::set<std::string> alerts;
  for (const auto& g : rule["spec"]["groups"])
    for (const auto& a : g["rules"])
      alerts.insert(str(a["alert"]));
  CAF_CHECK_EQUAL(alerts, (std::set<std::string>{
                            "IstioCSRHighErrorRatio", "IstioCSRHighLatency",
                            "IstioCSRRootCAExpiresSoon",
                            "IstioCSRServingCertificateNotRenewed",
                            "IstioCSRNoLeader", "IstioCSRActorRestartStorm"}));
  // What ships: the rendered spec, as a rule file beside the unit tests.
  temp_dir dir;
  dir.write("rules.yaml", YAML::Dump(rule["spec"]) + "\n");
  dir.write("alerts_test.yaml",
            read_file(source_path("tests/helm/prometheus/alerts_test.yaml")));
  auto check = run({promtool, "check", "rules", dir.file("rules.yaml")});
  if (check.exit_code != 0)
    CAF_ERROR("promtool check rules:\n" << check.out << check.err);
  CAF_CHECK(contains(check.out, "SUCCESS: 6 rules found"));
  auto tests
    = run({promtool, "test", "rules", dir.file("alerts_test.yaml")}, 120s);
  if (tests.exit_code != 0)
    CAF_ERROR("promtool test rules:\n" << tests.out << tests.err);
  CAF_CHECK(contains(tests.out, "SUCCESS"));
}

CAF_TEST(the alerts select the release job or the given selector) {
  auto defaults = must_render(both_on);
  auto exprs = rule_exprs(defaults.find("PrometheusRule", name));
  CAF_REQUIRE_EQUAL(exprs.size(), 6u);
  for (const auto& e : exprs)
    CAF_CHECK(contains(e, "{job=\"" + name + "-metrics\""));
  auto renamed = must_render(both_on + "nameOverride: mesh-ca\n");
  for (const auto& e : rule_exprs(renamed.find("PrometheusRule", "mesh-ca")))
    CAF_CHECK(contains(e, "{job=\"mesh-ca-metrics\"") && !contains(e, name));
  auto custom
    = must_render("app:\n  metrics:\n    prometheusRule:\n      enabled: true\n"
                  "      selector: namespace=\"mesh\",job=\"ca\"\n"
                  "      labels:\n        release: kube-prometheus-stack\n");
  auto rule = custom.find("PrometheusRule", name);
  CAF_CHECK_EQUAL(str(rule["metadata"]["labels"]["release"]),
                  "kube-prometheus-stack");
  for (const auto& e : rule_exprs(rule))
    CAF_CHECK(contains(e, "{namespace=\"mesh\",job=\"ca\"")
              && !contains(e, "-metrics"));
}

CAF_TEST(every metric used is in the documented list) {
  auto documented = documented_names();
  CAF_CHECK_GREATER(documented.size(), 10u);
  auto r = must_render(both_on);
  auto exprs = rule_exprs(r.find("PrometheusRule", name));
  auto d = dashboard_of(r, "cert-manager");
  for (const auto& e : dashboard_exprs(d))
    exprs.push_back(e);
  // The variables' queries too.
  for (const auto& v : d["templating"]["list"])
    exprs.push_back(v.value("definition", ""));
  std::set<std::string> used;
  for (const auto& e : exprs)
    for (const auto& n : names_in(e))
      used.insert(n);
  for (const auto& n : used)
    if (documented.count(n) == 0)
      CAF_ERROR(n << " is used but not listed in docs/metrics.md");
  for (const auto& n : documented)
    if (used.count(n) == 0)
      CAF_ERROR(n << " is listed in docs/metrics.md but not used");
}
