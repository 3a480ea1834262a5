#define CAF_SUITE helm.args
#include "caf/test/unit_test.hpp"

#include <algorithm>

#include "tests/helm/helm_chart.hpp"

using namespace istio_csr::test;
using namespace istio_csr::test::helm;

namespace {

using strings_t = std::vector<std::string>;

/// Renders `values` and returns the container args; fails if rendering does.
strings_t args_of(const std::string& values,
                  const std::vector<std::string>& files = {}) {
  auto r = render(files, values);
  if (!r.ok())
    CAF_FAIL("helm template failed: " << r.result.err);
  return r.args();
}

/// Replaces the arg starting with `prefix` (the flag and its "=") by
/// prefix + value; fails if there is no such arg.
void set_arg(strings_t& args, const std::string& prefix,
             const std::string& value) {
  auto i = std::find_if(args.begin(), args.end(), [&](const std::string& a) {
    return a.rfind(prefix, 0) == 0;
  });
  if (i == args.end())
    CAF_FAIL("no arg " << prefix);
  *i = prefix + value;
}

/// Inserts `arg` right after the arg starting with `after`.
void insert_after(strings_t& args, const std::string& after,
                  const strings_t& inserted) {
  auto i = std::find_if(args.begin(), args.end(), [&](const std::string& a) {
    return a.rfind(after, 0) == 0;
  });
  if (i == args.end())
    CAF_FAIL("no arg " << after);
  args.insert(i + 1, inserted.begin(), inserted.end());
}

bool has_prefix(const strings_t& args, const std::string& prefix) {
  return std::any_of(args.begin(), args.end(), [&](const std::string& a) {
    return a.rfind(prefix, 0) == 0;
  });
}

} // namespace

CAF_TEST(default values give upstream default args) {
  check_same_list(args_of(""), default_args(), "args");
}

CAF_TEST(the e2e values give upstream e2e args) {
  // docs/upstream.md §9.2's values, compared with §8.2 item by item.
  strings_t want{
    "--log-level=1",
    "--log-format=json",
    "--metrics-port=9402",
    "--readiness-probe-port=6060",
    "--readiness-probe-path=/readyz",
    "--certificate-namespace=istio-system",
    "--issuer-enabled=true",
    "--issuer-name=istio-ca",
    "--issuer-kind=Issuer",
    "--issuer-group=cert-manager.io",
    "--preserve-certificate-requests=true",
    "--certificate-request-additional-annotations="
    "custom.cert-manager.io/policy-name=istio-csr",
    "--root-ca-file=",
    "--serving-certificate-dns-names=istio-csr.cert-manager.svc",
    "--serving-certificate-dns-names=cert-manager-istio-csr.cert-manager.svc",
    "--serving-certificate-duration=20s",
    "--trust-domain=foo.bar",
    "--cluster-id=Kubernetes",
    "--max-client-certificate-duration=5m",
    "--serving-address=0.0.0.0:6443",
    "--serving-certificate-key-size=2048",
    "--serving-signature-algorithm=RSA",
    "--enable-client-cert-authenticator=true",
    "--leader-election-namespace=istio-system",
    "--disable-kubernetes-client-rate-limiter=true",
    "--runtime-issuance-config-map-name=runtime-config-map",
    "--runtime-issuance-config-map-namespace=cert-manager",
    "--istiod-cert-enabled=false",
    "--istiod-cert-name=istiod-dynamic",
    "--istiod-cert-namespace=istio-system",
    "--istiod-cert-duration=1h",
    "--istiod-cert-renew-before=30m",
    "--istiod-cert-key-algorithm=RSA",
    "--istiod-cert-key-size=2048",
    "--istiod-cert-additional-dns-names=",
    "--istiod-cert-additional-annotations="
    "custom.cert-manager.io/policy-name=istio-csr",
    "--istiod-cert-istio-revisions=default",
  };
  check_same_list(args_of("", {values_file("e2e.yaml")}), want, "e2e args");
  // The Ambient variant adds only the trusted node accounts.
  insert_after(want, "--enable-client-cert-authenticator=",
               {"--ca-trusted-node-accounts=istio-system/ztunnel"});
  check_same_list(
    args_of("", {values_file("e2e.yaml"), values_file("e2e-ambient.yaml")}),
    want, "ambient args");
}

CAF_TEST(the pure runtime values blank the issuer and enable dynamic) {
  auto args = args_of("", {values_file("pure-runtime.yaml")});
  auto want = default_args();
  set_arg(want, "--log-format=", "json");
  set_arg(want, "--issuer-enabled=", "false");
  set_arg(want, "--issuer-name=", "");
  set_arg(want, "--issuer-kind=", "");
  set_arg(want, "--issuer-group=", "");
  insert_after(want, "--preserve-certificate-requests=",
               {"--certificate-request-additional-annotations="
                "custom.cert-manager.io/policy-name=istio-csr,"
                "custom.cert-manager.io/second-annotation=some-value"});
  set_arg(want, "--trust-domain=", "foo.bar");
  set_arg(want, "--runtime-issuance-config-map-name=", "runtime-config-map");
  set_arg(want, "--istiod-cert-enabled=", "true");
  insert_after(want, "--istiod-cert-additional-dns-names=",
               {"--istiod-cert-additional-annotations="
                "custom.cert-manager.io/policy-name=istio-csr,"
                "custom.cert-manager.io/second-annotation=some-value"});
  check_same_list(args, want, "pure runtime args");
}

CAF_TEST(the runtime configmap name follows upstream precedence) {
  auto name_arg = [](const std::string& values) {
    for (const auto& a : args_of(values))
      if (a.rfind("--runtime-issuance-config-map-name=", 0) == 0)
        return a.substr(a.find('=') + 1);
    return std::string{"<missing>"};
  };
  CAF_CHECK_EQUAL(name_arg(""), "");
  CAF_CHECK_EQUAL(name_arg("app:\n  runtimeConfiguration:\n    create: true\n"),
                  "cert-manager-istio-csr");
  CAF_CHECK_EQUAL(name_arg("app:\n  runtimeIssuanceConfigMap: old\n"), "old");
  CAF_CHECK_EQUAL(name_arg("app:\n  runtimeIssuanceConfigMap: old\n"
                           "  runtimeConfiguration:\n    name: new\n"),
                  "new");
  CAF_CHECK_EQUAL(name_arg("nameOverride: icsr\napp:\n  runtimeConfiguration:\n"
                           "    create: true\n"),
                  "icsr");
}

CAF_TEST(optional upstream args are passed only when set) {
  auto args = args_of("app:\n"
                      "  tls:\n"
                      "    rootCAFile: /var/certs/ca.pem\n"
                      "    servingTLSMinVersion: VersionTLS13\n"
                      "    servingTLSCipherSuites:\n"
                      "    - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\n"
                      "    - TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384\n"
                      "    servingTLSCurvePreferences: [X25519, CurveP256]\n"
                      "  controller:\n"
                      "    configmapNamespaceSelector: maistra.io/member-of="
                      "istio-system\n"
                      "    maxConcurrentReconciles: 4\n");
  auto want = default_args();
  set_arg(want, "--root-ca-file=", "/var/certs/ca.pem");
  insert_after(want, "--trust-domain=",
               {"--serving-tls-min-version=VersionTLS13",
                "--serving-tls-cipher-suites="
                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                "--serving-tls-cipher-suites="
                "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                "--serving-tls-curve-preferences=X25519",
                "--serving-tls-curve-preferences=CurveP256"});
  insert_after(want, "--leader-election-namespace=",
               {"--configmap-namespace-selector=maistra.io/member-of="
                "istio-system"});
  insert_after(want, "--disable-kubernetes-client-rate-limiter=",
               {"--max-concurrent-reconciles=4"});
  check_same_list(args, want, "args");
  // maxConcurrentReconciles is passed only above 1.
  auto one = args_of("app:\n  controller:\n    maxConcurrentReconciles: 1\n");
  CAF_CHECK(!has_prefix(one, "--max-concurrent-reconciles"));
}

CAF_TEST(our own flags are passed only when set) {
  auto defaults = args_of("");
  for (auto flag :
       {"--kube-api-qps", "--kube-api-burst", "--certificate-request-timeout",
        "--max-pending-certificate-requests", "--max-concurrent-requests",
        "--token-review-cache-ttl", "--request-read-timeout",
        "--shutdown-grace-period"})
    if (has_prefix(defaults, flag))
      CAF_ERROR(flag << " is passed by default");
  auto args = args_of("app:\n"
                      "  controller:\n"
                      "    kubeApiQPS: 2000000\n"
                      "    kubeApiBurst: 4000000\n"
                      "  certmanager:\n"
                      "    certificateRequestTimeout: 45s\n"
                      "    maxPendingCertificateRequests: 64\n"
                      "  server:\n"
                      "    maxConcurrentRequests: 512\n"
                      "    tokenReviewCacheTTL: 30s\n"
                      "    requestReadTimeout: 20s\n"
                      "    shutdownGracePeriod: 40s\n");
  auto want = default_args();
  insert_after(want, "--preserve-certificate-requests=",
               {"--certificate-request-timeout=45s",
                "--max-pending-certificate-requests=64"});
  insert_after(want, "--enable-client-cert-authenticator=",
               {"--max-concurrent-requests=512", "--token-review-cache-ttl=30s",
                "--request-read-timeout=20s", "--shutdown-grace-period=40s"});
  // Whole numbers print as integers, never as 2e+06.
  insert_after(want, "--disable-kubernetes-client-rate-limiter=",
               {"--kube-api-qps=2000000", "--kube-api-burst=4000000"});
  check_same_list(args, want, "args");
  auto frac = args_of("app:\n  controller:\n    kubeApiQPS: 2.5\n");
  CAF_CHECK(has_prefix(frac, "--kube-api-qps=2.5"));
}

CAF_TEST(additional annotations become one pflag map value) {
  auto value_of = [](const std::string& annotations) {
    auto args = args_of("app:\n  certmanager:\n    additionalAnnotations:\n"
                        + annotations);
    std::string cr, istiod;
    for (const auto& a : args) {
      if (a.rfind("--certificate-request-additional-annotations=", 0) == 0)
        cr = a.substr(a.find('=') + 1);
      if (a.rfind("--istiod-cert-additional-annotations=", 0) == 0)
        istiod = a.substr(a.find('=') + 1);
    }
    // Both flags always get the same value.
    CAF_CHECK_EQUAL(cr, istiod);
    return cr;
  };
  CAF_CHECK_EQUAL(value_of("    - {name: a.io/x, value: one}\n"), "a.io/x=one");
  CAF_CHECK_EQUAL(value_of("    - {name: a.io/x, value: one}\n"
                           "    - {name: b.io/y, value: two}\n"),
                  "a.io/x=one,b.io/y=two");
  // Numbers and booleans are written as YAML parsed them.
  CAF_CHECK_EQUAL(value_of("    - {name: a.io/n, value: 42}\n"
                           "    - {name: b.io/b, value: true}\n"),
                  "a.io/n=42,b.io/b=true");
  // One pair with one "=": pflag takes the whole value, commas included.
  CAF_CHECK_EQUAL(value_of("    - {name: a.io/x, value: 'p,q'}\n"),
                  "a.io/x=p,q");
  // Read as CSV: fields holding "," or '"' are CSV-quoted.
  CAF_CHECK_EQUAL(value_of("    - {name: a.io/x, value: 'p,q'}\n"
                           "    - {name: b.io/y, value: 'say \"hi\"'}\n"
                           "    - {name: c.io/z, value: k=v}\n"),
                  "\"a.io/x=p,q\",\"b.io/y=say \"\"hi\"\"\",c.io/z=k=v");
}

CAF_TEST(istiod args follow the tls and istio values) {
  auto args = args_of("app:\n"
                      "  server:\n"
                      "    serving:\n"
                      "      signatureAlgorithm: ECDSA\n"
                      "      certificateKeySize: 384\n"
                      "      address: 127.0.0.1\n"
                      "      port: 7443\n"
                      "  tls:\n"
                      "    istiodCertificateEnable: dynamic\n"
                      "    istiodCertificateDuration: 24h\n"
                      "    istiodCertificateRenewBefore: 8h\n"
                      "    istiodPrivateKeySize: 384\n"
                      "    istiodAdditionalDNSNames: [a.example.com, "
                      "b.example.com]\n"
                      "  istio:\n"
                      "    namespace: mesh\n"
                      "    revisions: [default, 1-22, canary]\n");
  auto want = default_args();
  set_arg(want, "--serving-address=", "127.0.0.1:7443");
  set_arg(want, "--serving-certificate-key-size=", "384");
  set_arg(want, "--serving-signature-algorithm=", "ECDSA");
  set_arg(want, "--istiod-cert-enabled=", "true");
  set_arg(want, "--istiod-cert-namespace=", "mesh");
  set_arg(want, "--istiod-cert-duration=", "24h");
  set_arg(want, "--istiod-cert-renew-before=", "8h");
  // An empty istiodPrivateKeyAlgorithm falls back to the serving algorithm.
  set_arg(want, "--istiod-cert-key-algorithm=", "ECDSA");
  set_arg(want, "--istiod-cert-key-size=", "384");
  set_arg(want,
          "--istiod-cert-additional-dns-names=", "a.example.com,b.example.com");
  set_arg(want, "--istiod-cert-istio-revisions=", "default,1-22,canary");
  check_same_list(args, want, "args");
  auto rsa = args_of("app:\n  server:\n    serving:\n"
                     "      signatureAlgorithm: ECDSA\n"
                     "  tls:\n    istiodPrivateKeyAlgorithm: RSA\n");
  CAF_CHECK(has_prefix(rsa, "--istiod-cert-key-algorithm=RSA"));
  // Only the string "dynamic" enables the dynamic certificate.
  for (auto v : {"true", "false", "\"true\""}) {
    auto a = args_of(std::string{"app:\n  tls:\n    istiodCertificateEnable: "}
                     + v + "\n");
    if (!has_prefix(a, "--istiod-cert-enabled=false"))
      CAF_ERROR("istiodCertificateEnable " << v << " enables dynamic");
  }
}

CAF_TEST(the image reference follows upstream precedence) {
  auto image_of = [](const std::string& values) {
    auto r = render_values(values);
    if (!r.ok())
      CAF_FAIL("helm template failed: " << r.result.err);
    auto d = r.find("Deployment", "cert-manager-istio-csr");
    return str(d["spec"]["template"]["spec"]["containers"][0]["image"]);
  };
  CAF_CHECK_EQUAL(image_of(""), "istio-csr:v0.1.0");
  CAF_CHECK_EQUAL(image_of("imageRegistry: quay.io\nimageNamespace: me\n"),
                  "quay.io/me/istio-csr:v0.1.0");
  CAF_CHECK_EQUAL(image_of("imageRegistry: r.io\nimage:\n  name: x\n"
                           "  tag: v2\n"),
                  "r.io/x:v2");
  CAF_CHECK_EQUAL(image_of("imageRegistry: r.io\nimage:\n"
                           "  repository: full/repo\n  digest: sha256:ab\n"),
                  "full/repo@sha256:ab");
  CAF_CHECK_EQUAL(image_of("image:\n  tag: v3\n  digest: sha256:cd\n"),
                  "istio-csr:v3@sha256:cd");
  CAF_CHECK_EQUAL(image_of("imageNamespace: ns\nimage:\n  registry: old.io\n"),
                  "old.io/ns/istio-csr:v0.1.0");
  CAF_CHECK_EQUAL(image_of("image:\n  registry: old.io\n"
                           "  repository: full/repo\n"),
                  "old.io/full/repo:v0.1.0");
}
