#define CAF_SUITE config.help
#include "caf/test/unit_test.hpp"

#include <set>

#include "config/parse.hpp"
#include "tests/support/check_case.hpp"

using namespace istio_csr::config;

CAF_TEST(the flag table holds every upstream flag) {
  // Written from docs/upstream.md (§1.1-§1.8) plus our additions, independent
  // of the implementation's table.
  std::set<std::string> expected{
    // 1.1
    "serving-address", "max-client-certificate-duration", "cluster-id",
    "enable-client-cert-authenticator", "ca-trusted-node-accounts",
    "max-concurrent-requests", "token-review-cache-ttl", "request-read-timeout",
    "shutdown-grace-period", // ours

    // 1.2
    "certificate-namespace", "issuer-enabled", "issuer-name", "issuer-kind",
    "issuer-group", "preserve-certificate-requests",
    "certificate-request-additional-annotations", "certificate-request-timeout",
    "max-pending-certificate-requests", // ours
    // 1.3
    "runtime-issuance-config-map-name", "runtime-issuance-config-map-namespace",
    // 1.4
    "trust-domain", "root-ca-file", "serving-certificate-duration",
    "serving-certificate-dns-names", "serving-certificate-key-size",
    "serving-signature-algorithm", "serving-tls-min-version",
    "serving-tls-cipher-suites", "serving-tls-curve-preferences",
    // 1.5
    "leader-election-namespace", "configmap-namespace-selector",
    "disable-kubernetes-client-rate-limiter", "max-concurrent-reconciles",
    "leader-election-lease-duration", "leader-election-renew-deadline",
    "leader-election-retry-period", // ours
    // 1.6
    "istiod-cert-enabled", "istiod-cert-name", "istiod-cert-namespace",
    "istiod-cert-duration", "istiod-cert-renew-before",
    "istiod-cert-key-algorithm", "istiod-cert-key-size",
    "istiod-cert-additional-dns-names", "istiod-cert-additional-annotations",
    "istiod-cert-istio-revisions",
    // 1.7
    "log-level", "log-format", "readiness-probe-port", "readiness-probe-path",
    "metrics-port",
    // 1.8
    "kubeconfig", "cache-dir", "certificate-authority", "client-certificate",
    "client-key", "token", "as", "as-uid", "as-group", "as-user-extra",
    "cluster", "user", "context", "namespace", "server", "tls-server-name",
    "insecure-skip-tls-verify", "request-timeout", "disable-compression",
    "kube-api-qps", "kube-api-burst",
    // ours: docs/debugging.md
    "debug-address", "chaos-kill-interval", "chaos-seed", "chaos-actors",
    "chaos-include-supervisors", "chaos-allow-give-up"};
  std::set<std::string> actual;
  for (auto& f : flags())
    ICSR_CHECK_CASE(actual.insert(f.long_name).second, f.long_name);
  for (auto& name : expected)
    ICSR_CHECK_CASE(actual.count(name) == 1, "missing " << name);
  for (auto& name : actual)
    ICSR_CHECK_CASE(expected.count(name) == 1, "unexpected " << name);
  // Short forms, as upstream.
  std::map<std::string, char> shorts{{"serving-address", 'a'},
                                     {"max-client-certificate-duration", 'm'},
                                     {"certificate-namespace", 'c'},
                                     {"issuer-enabled", 'e'},
                                     {"issuer-name", 'u'},
                                     {"issuer-kind", 'k'},
                                     {"issuer-group", 'g'},
                                     {"preserve-certificate-requests", 'd'},
                                     {"serving-certificate-duration", 't'},
                                     {"log-level", 'v'},
                                     {"namespace", 'n'},
                                     {"server", 's'}};
  for (auto& f : flags()) {
    auto i = shorts.find(f.long_name);
    char expected_short = i == shorts.end() ? '\0' : i->second;
    ICSR_CHECK_CASE(f.short_name == expected_short, f.long_name);
  }
}

CAF_TEST(help lists every flag with its group and default) {
  auto help = help_text();
  for (auto& f : flags()) {
    std::string names = f.short_name != '\0' ? std::string{"-"} + f.short_name
                                                 + ",--" + f.long_name
                                             : "--" + f.long_name;
    auto pos = help.find("  " + names + " ");
    if (pos == std::string::npos)
      pos = help.find("  " + names + "\n");
    ICSR_CHECK_CASE(pos != std::string::npos, names);
    if (pos == std::string::npos)
      continue;
    // The flag sits under its group's heading.
    auto heading = help.rfind("\n" + f.group + ":\n", pos);
    ICSR_CHECK_CASE(heading != std::string::npos,
                    f.long_name << " in " << f.group);
    auto next_heading = help.find(":\n\n", heading + 1);
    (void)next_heading;
    // Its default is shown (when not a zero value).
    auto line_end = help.find("\n  -", pos + 1);
    auto entry = help.substr(pos, line_end - pos);
    if (!f.default_text.empty())
      ICSR_CHECK_CASE(entry.find("(default " + f.default_text + ")")
                        != std::string::npos,
                      f.long_name << ": " << entry);
    // Non-boolean flags show their type.
    if (f.type_name != "bool")
      ICSR_CHECK_CASE(entry.find(names + " " + f.type_name)
                        != std::string::npos,
                      f.long_name);
  }
  for (auto group :
       {"Serving (gRPC)", "Issuer / cert-manager",
        "Runtime issuer configuration", "TLS / root CA", "Controller",
        "Dynamic istiod certificate", "Logging, metrics, readiness",
        "Debugging and chaos testing (off by default)", "Kubernetes client"})
    ICSR_CHECK_CASE(
      help.find(std::string{"\n"} + group + ":\n") != std::string::npos, group);
  CAF_CHECK(help.find("--help") != std::string::npos);
  CAF_CHECK(help.find("--version") != std::string::npos);
  CAF_CHECK(help.find("TOKEN_AUDIENCES") != std::string::npos);
  // Spot checks of defaults as upstream prints them.
  for (auto s :
       {"(default \"0.0.0.0:6443\")", "(default 1h0m0s)", "(default 30m0s)",
        "(default 30s)", "(default [cert-manager-istio-csr.cert-manager.svc])",
        "(default 2048)", "(default true)", "(default \"/readyz\")",
        "(default 9402)", "(default 6060)", "(default 500)", "(default 1000)",
        "(default \"istio-system\")"})
    ICSR_CHECK_CASE(help.find(s) != std::string::npos, s);
}
