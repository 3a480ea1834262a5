#define CAF_SUITE helm.lint
#include "caf/test/unit_test.hpp"

#include <utility>

#include "tests/helm/helm_chart.hpp"

using namespace istio_csr::test;
using namespace istio_csr::test::helm;

namespace {

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

/// Every values set the other suites render, by name.
std::vector<std::pair<std::string, std::string>> inline_values() {
  return {
    {"defaults", ""},
    {"dynamic", "app:\n  tls:\n    istiodCertificateEnable: dynamic\n"},
    {"no istiod cert", "app:\n  tls:\n    istiodCertificateEnable: false\n"},
    {"runtime create", "app:\n  runtimeConfiguration:\n    create: true\n"},
    {"trusted nodes",
     "app:\n  server:\n    caTrustedNodeAccounts: istio-system/ztunnel\n"},
    {"annotations", "app:\n  certmanager:\n    additionalAnnotations:\n"
                    "    - name: a.example.com/x\n      value: one\n"},
    {"servicemonitor", "app:\n  metrics:\n    service:\n      servicemonitor:\n"
                       "        enabled: true\n"},
    {"pdb", "podDisruptionBudget:\n  enabled: true\n"},
    {"dashboard and alerts", "app:\n  metrics:\n    dashboard:\n"
                             "      enabled: true\n    prometheusRule:\n"
                             "      enabled: true\n"},
    {"nameOverride", "nameOverride: istio-csr\n"},
    {"new values", "app:\n  controller:\n    kubeApiQPS: 50\n"
                   "    kubeApiBurst: 100\n  certmanager:\n"
                   "    certificateRequestTimeout: 45s\n"},
    {"global", "global:\n  imageRegistry: example.com\n"},
  };
}

} // namespace

CAF_TEST(the chart lints cleanly with every values set) {
  for (const auto& [name, values] : inline_values()) {
    auto res = lint({}, values);
    if (res.exit_code != 0)
      CAF_ERROR(name << ": helm lint --strict failed:\n" << res.out << res.err);
  }
  for (auto file : {"e2e.yaml", "pure-runtime.yaml"}) {
    auto res = lint({values_file(file)});
    if (res.exit_code != 0)
      CAF_ERROR(file << ": helm lint --strict failed:\n" << res.out << res.err);
  }
  auto res = lint({values_file("e2e.yaml"), values_file("e2e-ambient.yaml")});
  CAF_CHECK_EQUAL(res.exit_code, 0);
}

CAF_TEST(every values set renders) {
  for (const auto& [name, values] : inline_values()) {
    auto r = render_values(values);
    if (!r.ok())
      CAF_ERROR(name << ": helm template failed: " << r.result.err);
    else if (r.objects.empty())
      CAF_ERROR(name << ": helm template rendered nothing");
  }
}

CAF_TEST(the schema rejects unknown keys like upstream and allows global) {
  auto top = render_values("replicas: 2\n");
  CAF_CHECK_NOT_EQUAL(top.result.exit_code, 0);
  CAF_CHECK(contains(top.result.err, "replicas"));
  auto nested = render_values("app:\n  tls:\n    trustDomian: x\n");
  CAF_CHECK_NOT_EQUAL(nested.result.exit_code, 0);
  CAF_CHECK(contains(nested.result.err, "trustDomian"));
  auto global = render_values("global:\n  anything: [1, 2]\n");
  CAF_CHECK(global.ok());
}

CAF_TEST(the schema checks types of our new values) {
  auto qps = render_values("app:\n  controller:\n    kubeApiQPS: fast\n");
  CAF_CHECK_NOT_EQUAL(qps.result.exit_code, 0);
  CAF_CHECK(contains(qps.result.err, "kubeApiQPS"));
  auto burst = render_values("app:\n  controller:\n    kubeApiBurst: 1.5\n");
  CAF_CHECK_NOT_EQUAL(burst.result.exit_code, 0);
  CAF_CHECK(contains(burst.result.err, "kubeApiBurst"));
  // Whole seconds or minutes only: the pod's grace period is computed.
  for (auto bad : {"25", "1h", "1.5s", "500ms", "0m"}) {
    auto r = render_values(
      std::string{"app:\n  server:\n    shutdownGracePeriod: \""} + bad
      + "\"\n");
    CAF_CHECK_NOT_EQUAL(r.result.exit_code, 0);
    CAF_CHECK(contains(r.result.err, "shutdownGracePeriod"));
  }
}

CAF_TEST(istiodCertificateEnable takes a boolean or a string) {
  for (auto v : {"true", "false", "dynamic", "\"true\"", "null"}) {
    auto r = render_values(std::string{"app:\n  tls:\n    "
                                       "istiodCertificateEnable: "}
                           + v + "\n");
    if (!r.ok())
      CAF_ERROR("istiodCertificateEnable: " << v << ": " << r.result.err);
  }
}
