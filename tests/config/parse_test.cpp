#define CAF_SUITE config.parse
#include "caf/test/unit_test.hpp"

#include <functional>
#include <set>

#include "config/go_duration.hpp"
#include "tests/config/config_fixture.hpp"

using namespace istio_csr::config;
using namespace std::chrono_literals;
using istio_csr::config::test::run_parse;

CAF_TEST(defaults match upstream) {
  auto o = ICSR_PARSE_OK({});
  // 1.1 serving
  CAF_CHECK_EQUAL(o.serving.address, "0.0.0.0:6443");
  CAF_CHECK(o.serving.max_client_certificate_duration == 1h);
  CAF_CHECK_EQUAL(o.serving.cluster_id, "Kubernetes");
  CAF_CHECK_EQUAL(o.serving.enable_client_cert_authenticator, false);
  CAF_CHECK(o.serving.ca_trusted_node_accounts.empty());
  // 1.2 issuer
  CAF_CHECK_EQUAL(o.issuer.certificate_namespace, "istio-system");
  CAF_CHECK_EQUAL(o.issuer.enabled, true);
  CAF_CHECK_EQUAL(o.issuer.ref.name, "istio-ca");
  CAF_CHECK_EQUAL(o.issuer.ref.kind, "Issuer");
  CAF_CHECK_EQUAL(o.issuer.ref.group, "cert-manager.io");
  CAF_REQUIRE(o.issuer.static_issuer.has_value());
  CAF_CHECK(*o.issuer.static_issuer
            == (issuer_ref{"istio-ca", "Issuer", "cert-manager.io"}));
  CAF_CHECK_EQUAL(o.issuer.preserve_certificate_requests, false);
  CAF_CHECK(o.issuer.additional_annotations.empty());
  CAF_CHECK(o.issuer.certificate_request_timeout == 30s);
  // 1.3 runtime config
  CAF_CHECK_EQUAL(o.runtime_config.name, "");
  CAF_CHECK_EQUAL(o.runtime_config.namespace_, "");
  CAF_CHECK(!o.runtime_config.enabled());
  // 1.4 TLS
  CAF_CHECK_EQUAL(o.tls.trust_domain, "cluster.local");
  CAF_CHECK_EQUAL(o.tls.root_ca_file, "");
  CAF_CHECK(o.tls.serving_certificate_duration == 1h);
  CAF_CHECK_EQUAL(
    o.tls.serving_certificate_dns_names,
    std::vector<std::string>{"cert-manager-istio-csr.cert-manager.svc"});
  CAF_CHECK_EQUAL(o.tls.serving_certificate_key_size, 2048);
  CAF_CHECK_EQUAL(o.tls.serving_signature_algorithm, "RSA");
  CAF_CHECK(o.tls.serving_key_algorithm == key_algorithm::rsa);
  CAF_CHECK_EQUAL(o.tls.serving_tls_min_version, "");
  CAF_CHECK(o.tls.min_version == tls_version::tls12);
  CAF_CHECK(o.tls.serving_tls_cipher_suites.empty());
  CAF_CHECK(o.tls.cipher_suites.empty());
  CAF_CHECK(o.tls.serving_tls_curve_preferences.empty());
  CAF_CHECK(o.tls.curves.empty());
  // 1.5 controller
  CAF_CHECK_EQUAL(o.controller.leader_election_namespace, "istio-system");
  CAF_CHECK_EQUAL(o.controller.configmap_namespace_selector, "");
  CAF_CHECK(o.controller.namespace_selector.empty());
  CAF_CHECK_EQUAL(o.kube.disable_rate_limiter, false);
  CAF_CHECK_EQUAL(o.controller.max_concurrent_reconciles, 1);
  // 1.6 istiod cert
  CAF_CHECK_EQUAL(o.istiod_cert.enabled, false);
  CAF_CHECK_EQUAL(o.istiod_cert.name, "istiod-dynamic");
  CAF_CHECK_EQUAL(o.istiod_cert.namespace_, "istio-system");
  CAF_CHECK(o.istiod_cert.cert_duration == 1h);
  CAF_CHECK(o.istiod_cert.renew_before == 30min);
  CAF_CHECK_EQUAL(o.istiod_cert.key_algorithm, "RSA");
  CAF_CHECK_EQUAL(o.istiod_cert.key_size, 2048);
  CAF_CHECK(o.istiod_cert.additional_dns_names.empty());
  CAF_CHECK(o.istiod_cert.additional_annotations.empty());
  CAF_CHECK(o.istiod_cert.istio_revisions.empty());
  CAF_CHECK_EQUAL(o.istiod_cert.revisions(),
                  std::vector<std::string>{"default"});
  // 1.7 telemetry
  CAF_CHECK_EQUAL(o.telemetry.log_level, 1);
  CAF_CHECK_EQUAL(o.telemetry.log_format_name, "text");
  CAF_CHECK(o.telemetry.format == log_format::text);
  CAF_CHECK_EQUAL(o.telemetry.readiness_probe_port, 6060);
  CAF_CHECK_EQUAL(o.telemetry.readiness_probe_path, "/readyz");
  CAF_CHECK_EQUAL(o.telemetry.metrics_port, 9402);
  // 1.8 kube client
  auto& k = o.kube;
  for (auto* s : {&k.kubeconfig, &k.cache_dir, &k.certificate_authority,
                  &k.client_certificate, &k.client_key, &k.token, &k.as,
                  &k.as_uid, &k.cluster, &k.user, &k.context, &k.namespace_,
                  &k.server, &k.tls_server_name})
    CAF_CHECK_EQUAL(*s, "");
  CAF_CHECK(k.as_group.empty());
  CAF_CHECK(k.as_user_extra.empty());
  CAF_CHECK_EQUAL(k.insecure_skip_tls_verify, false);
  CAF_CHECK(k.request_timeout == 0ms);
  CAF_CHECK_EQUAL(k.disable_compression, false);
  CAF_CHECK_EQUAL(k.qps, 500.0);
  CAF_CHECK_EQUAL(k.burst, 1000);
  // Environment
  CAF_CHECK_EQUAL(o.token_audiences, std::vector<std::string>{"istio-ca"});
}

namespace {

using check_fn = std::function<bool(const options&)>;

struct flag_case {
  std::string flag; // long name, for the coverage check
  std::vector<std::string> args;
  check_fn check;
};

using strings = std::vector<std::string>;
using string_map = std::map<std::string, std::string>;

std::vector<flag_case> flag_cases() {
  return {
    {"serving-address",
     {"--serving-address=127.0.0.1:0"},
     [](auto& o) { return o.serving.address == "127.0.0.1:0"; }},
    {"max-client-certificate-duration",
     {"-m", "90m"},
     [](auto& o) {
       return o.serving.max_client_certificate_duration == 90min;
     }},
    {"cluster-id",
     {"--cluster-id", "cluster-1"},
     [](auto& o) { return o.serving.cluster_id == "cluster-1"; }},
    {"enable-client-cert-authenticator",
     {"--enable-client-cert-authenticator"},
     [](auto& o) { return o.serving.enable_client_cert_authenticator; }},
    {"ca-trusted-node-accounts",
     {"--ca-trusted-node-accounts=istio-system/ztunnel,kube-system/x"},
     [](auto& o) {
       return o.serving.ca_trusted_node_accounts
              == strings{"istio-system/ztunnel", "kube-system/x"};
     }},
    {"certificate-namespace",
     {"-c", "certs"},
     [](auto& o) { return o.issuer.certificate_namespace == "certs"; }},
    {"issuer-enabled",
     {"--issuer-enabled=false", "--runtime-issuance-config-map-name=rc",
      "--runtime-issuance-config-map-namespace=ns"},
     [](auto& o) { return !o.issuer.enabled && !o.issuer.static_issuer; }},
    {"issuer-name",
     {"-u", "my-ca"},
     [](auto& o) {
       return o.issuer.ref.name == "my-ca"
              && o.issuer.static_issuer->name == "my-ca";
     }},
    {"issuer-kind",
     {"-k", "ClusterIssuer"},
     [](auto& o) { return o.issuer.static_issuer->kind == "ClusterIssuer"; }},
    {"issuer-group",
     {"-g", "awspca.cert-manager.io"},
     [](auto& o) {
       return o.issuer.static_issuer->group == "awspca.cert-manager.io";
     }},
    {"preserve-certificate-requests",
     {"-d"},
     [](auto& o) { return o.issuer.preserve_certificate_requests; }},
    {"certificate-request-additional-annotations",
     {"--certificate-request-additional-annotations="
      "custom.cert-manager.io/policy-name=istio-csr,b=c"},
     [](auto& o) {
       return o.issuer.additional_annotations
              == string_map{{"custom.cert-manager.io/policy-name", "istio-csr"},
                            {"b", "c"}};
     }},
    {"certificate-request-timeout",
     {"--certificate-request-timeout=1m30s"},
     [](auto& o) { return o.issuer.certificate_request_timeout == 90s; }},
    {"max-pending-certificate-requests",
     {"--max-pending-certificate-requests=16"},
     [](auto& o) { return o.issuer.max_pending_certificate_requests == 16; }},
    {"max-concurrent-requests",
     {"--max-concurrent-requests", "64"},
     [](auto& o) { return o.serving.max_concurrent_requests == 64; }},
    {"token-review-cache-ttl",
     {"--token-review-cache-ttl=1m30s"},
     [](auto& o) { return o.serving.token_review_cache_ttl == 90s; }},
    {"request-read-timeout",
     {"--request-read-timeout=1m30s"},
     [](auto& o) { return o.serving.request_read_timeout == 90s; }},
    {"shutdown-grace-period",
     {"--shutdown-grace-period=1m30s"},
     [](auto& o) { return o.serving.shutdown_grace_period == 90s; }},
    {"runtime-issuance-config-map-name",
     {"--runtime-issuance-config-map-name", "runtime-config-map"},
     [](auto& o) {
       return o.runtime_config.name == "runtime-config-map"
              && !o.runtime_config.enabled();
     }},
    {"runtime-issuance-config-map-namespace",
     {"--runtime-issuance-config-map-namespace=cert-manager",
      "--runtime-issuance-config-map-name=rc"},
     [](auto& o) {
       return o.runtime_config.namespace_ == "cert-manager"
              && o.runtime_config.enabled();
     }},
    {"trust-domain",
     {"--trust-domain=foo.bar"},
     [](auto& o) { return o.tls.trust_domain == "foo.bar"; }},
    {"root-ca-file",
     {"--root-ca-file=/etc/roots.pem"},
     [](auto& o) { return o.tls.root_ca_file == "/etc/roots.pem"; }},
    {"serving-certificate-duration",
     {"-t", "20s"},
     [](auto& o) { return o.tls.serving_certificate_duration == 20s; }},
    {"serving-certificate-dns-names",
     {"--serving-certificate-dns-names=istio-csr.cert-manager.svc",
      "--serving-certificate-dns-names=cert-manager-istio-csr.cert-manager."
      "svc"},
     [](auto& o) {
       return o.tls.serving_certificate_dns_names
              == strings{"istio-csr.cert-manager.svc",
                         "cert-manager-istio-csr.cert-manager.svc"};
     }},
    {"serving-certificate-key-size",
     {"--serving-certificate-key-size=4096"},
     [](auto& o) { return o.tls.serving_certificate_key_size == 4096; }},
    {"serving-signature-algorithm",
     {"--serving-signature-algorithm=ECDSA",
      "--serving-certificate-key-size=384"},
     [](auto& o) {
       return o.tls.serving_key_algorithm == key_algorithm::ecdsa
              && o.tls.serving_certificate_key_size == 384;
     }},
    {"serving-tls-min-version",
     {"--serving-tls-min-version=VersionTLS13"},
     [](auto& o) { return o.tls.min_version == tls_version::tls13; }},
    {"serving-tls-cipher-suites",
     {"--serving-tls-cipher-suites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
      "--serving-tls-cipher-suites=TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"},
     [](auto& o) {
       return o.tls.cipher_suites.size() == 2
              && o.tls.cipher_suites[0].openssl_name
                   == "ECDHE-RSA-AES128-GCM-SHA256"
              && o.tls.cipher_suites[1].openssl_name
                   == "ECDHE-ECDSA-AES256-GCM-SHA384";
     }},
    {"serving-tls-curve-preferences",
     {"--serving-tls-curve-preferences=X25519,P-384"},
     [](auto& o) {
       return o.tls.curves.size() == 2 && o.tls.curves[0].id == 29
              && o.tls.curves[1].id == 24;
     }},
    {"leader-election-namespace",
     {"--leader-election-namespace=kube-system"},
     [](auto& o) {
       return o.controller.leader_election_namespace == "kube-system";
     }},
    {"configmap-namespace-selector",
     {"--configmap-namespace-selector=istio-csr-injection=enabled"},
     [](auto& o) {
       return o.controller.namespace_selector.to_string()
                == "istio-csr-injection=enabled"
              && o.controller.namespace_selector.matches(
                {{"istio-csr-injection", "enabled"}})
              && !o.controller.namespace_selector.matches({});
     }},
    {"disable-kubernetes-client-rate-limiter",
     {"--disable-kubernetes-client-rate-limiter=true"},
     [](auto& o) { return o.kube.disable_rate_limiter; }},
    {"leader-election-lease-duration",
     {"--leader-election-lease-duration=30s"},
     [](auto& o) {
       return o.controller.leader_election_lease_duration == 30s;
     }},
    {"leader-election-renew-deadline",
     {"--leader-election-renew-deadline=20s"},
     [](auto& o) {
       return o.controller.leader_election_renew_deadline == 20s;
     }},
    {"leader-election-retry-period",
     {"--leader-election-retry-period=3s"},
     [](auto& o) { return o.controller.leader_election_retry_period == 3s; }},
    {"max-concurrent-reconciles",
     {"--max-concurrent-reconciles", "8"},
     [](auto& o) { return o.controller.max_concurrent_reconciles == 8; }},
    {"istiod-cert-enabled",
     {"--istiod-cert-enabled=true"},
     [](auto& o) { return o.istiod_cert.enabled; }},
    {"istiod-cert-name",
     {"--istiod-cert-name=istiod"},
     [](auto& o) { return o.istiod_cert.name == "istiod"; }},
    {"istiod-cert-namespace",
     {"--istiod-cert-namespace=mesh"},
     [](auto& o) { return o.istiod_cert.namespace_ == "mesh"; }},
    {"istiod-cert-duration",
     {"--istiod-cert-duration=24h"},
     [](auto& o) { return o.istiod_cert.cert_duration == 24h; }},
    {"istiod-cert-renew-before",
     {"--istiod-cert-renew-before=10m"},
     [](auto& o) { return o.istiod_cert.renew_before == 10min; }},
    {"istiod-cert-key-algorithm",
     {"--istiod-cert-key-algorithm=ECDSA", "--istiod-cert-key-size=384"},
     [](auto& o) {
       return o.istiod_cert.key_algorithm == "ECDSA"
              && o.istiod_cert.key_size == 384;
     }},
    {"istiod-cert-key-size",
     {"--istiod-cert-key-size=3072"},
     [](auto& o) { return o.istiod_cert.key_size == 3072; }},
    {"istiod-cert-additional-dns-names",
     {"--istiod-cert-additional-dns-names=a.example.com,b.example.com"},
     [](auto& o) {
       return o.istiod_cert.additional_dns_names
              == strings{"a.example.com", "b.example.com"};
     }},
    {"istiod-cert-additional-annotations",
     {"--istiod-cert-additional-annotations=a=b"},
     [](auto& o) {
       return o.istiod_cert.additional_annotations == string_map{{"a", "b"}};
     }},
    {"istiod-cert-istio-revisions",
     {"--istiod-cert-istio-revisions=default,canary"},
     [](auto& o) {
       return o.istiod_cert.revisions() == strings{"default", "canary"};
     }},
    {"log-level",
     {"-v", "5"},
     [](auto& o) { return o.telemetry.log_level == 5; }},
    {"log-format",
     {"--log-format=JSON"},
     [](auto& o) {
       return o.telemetry.format == log_format::json
              && o.telemetry.log_format_name == "JSON";
     }},
    {"readiness-probe-port",
     {"--readiness-probe-port=0"},
     [](auto& o) { return o.telemetry.readiness_probe_port == 0; }},
    {"readiness-probe-path",
     {"--readiness-probe-path=/ready"},
     [](auto& o) { return o.telemetry.readiness_probe_path == "/ready"; }},
    {"metrics-port",
     {"--metrics-port=19402"},
     [](auto& o) { return o.telemetry.metrics_port == 19402; }},
    {"kubeconfig",
     {"--kubeconfig", "/tmp/kc"},
     [](auto& o) { return o.kube.kubeconfig == "/tmp/kc"; }},
    {"cache-dir",
     {"--cache-dir=/tmp/c"},
     [](auto& o) { return o.kube.cache_dir == "/tmp/c"; }},
    {"certificate-authority",
     {"--certificate-authority=/ca.pem"},
     [](auto& o) { return o.kube.certificate_authority == "/ca.pem"; }},
    {"client-certificate",
     {"--client-certificate=/c.pem"},
     [](auto& o) { return o.kube.client_certificate == "/c.pem"; }},
    {"client-key",
     {"--client-key=/k.pem"},
     [](auto& o) { return o.kube.client_key == "/k.pem"; }},
    {"token",
     {"--token=s3cr3t"},
     [](auto& o) { return o.kube.token == "s3cr3t"; }},
    {"as",
     {"--as=system:serviceaccount:a:b"},
     [](auto& o) { return o.kube.as == "system:serviceaccount:a:b"; }},
    {"as-uid",
     {"--as-uid=1234"},
     [](auto& o) { return o.kube.as_uid == "1234"; }},
    {"as-group",
     {"--as-group=a,b", "--as-group", "c"},
     // A string array: no comma splitting.
     [](auto& o) {
       return o.kube.as_group == strings{"a,b", "c"};
     }},
    {"as-user-extra",
     {"--as-user-extra=k=v1", "--as-user-extra=k=v2"},
     [](auto& o) {
       return o.kube.as_user_extra == strings{"k=v1", "k=v2"};
     }},
    {"cluster",
     {"--cluster=c1"},
     [](auto& o) { return o.kube.cluster == "c1"; }},
    {"user", {"--user=u1"}, [](auto& o) { return o.kube.user == "u1"; }},
    {"context",
     {"--context=ctx"},
     [](auto& o) { return o.kube.context == "ctx"; }},
    {"namespace",
     {"-n", "default"},
     [](auto& o) { return o.kube.namespace_ == "default"; }},
    {"server",
     {"-s", "https://127.0.0.1:6443"},
     [](auto& o) { return o.kube.server == "https://127.0.0.1:6443"; }},
    {"tls-server-name",
     {"--tls-server-name=kubernetes"},
     [](auto& o) { return o.kube.tls_server_name == "kubernetes"; }},
    {"insecure-skip-tls-verify",
     {"--insecure-skip-tls-verify"},
     [](auto& o) { return o.kube.insecure_skip_tls_verify; }},
    {"request-timeout",
     {"--request-timeout=1m"},
     [](auto& o) { return o.kube.request_timeout == 60s; }},
    {"disable-compression",
     {"--disable-compression"},
     [](auto& o) { return o.kube.disable_compression; }},
    {"kube-api-qps",
     {"--kube-api-qps=50.5"},
     [](auto& o) { return o.kube.qps == 50.5; }},
    {"kube-api-burst",
     {"--kube-api-burst=100"},
     [](auto& o) { return o.kube.burst == 100; }},
    // Ours: debugging and chaos testing (docs/debugging.md).
    {"debug-address",
     {"--debug-address=:6061"},
     [](auto& o) {
       return o.debug.address == ":6061" && o.debug.listen.port == 6061
              && o.debug.listen.host == "127.0.0.1" && o.debug.listen.loopback;
     }},
    {"chaos-kill-interval",
     {"--chaos-kill-interval=100ms"},
     [](auto& o) { return o.chaos.kill_interval == 100ms; }},
    {"chaos-seed",
     {"--chaos-kill-interval=1s", "--chaos-seed=-42"},
     [](auto& o) { return o.chaos.seed == -42; }},
    {"chaos-actors",
     {"--chaos-kill-interval=1s", "--chaos-actors=csr-signer-*,root/cr-*"},
     [](auto& o) {
       return o.chaos.actors
              == std::vector<std::string>{"csr-signer-*", "root/cr-*"};
     }},
    {"chaos-include-supervisors",
     {"--chaos-kill-interval=1s", "--chaos-include-supervisors"},
     [](auto& o) { return o.chaos.include_supervisors; }},
    {"chaos-allow-give-up",
     {"--chaos-kill-interval=1s", "--chaos-allow-give-up=true"},
     [](auto& o) { return o.chaos.allow_give_up; }},
  };
}

} // namespace

CAF_TEST(every flag parses into its field) {
  std::set<std::string> covered;
  for (auto& c : flag_cases()) {
    covered.insert(c.flag);
    auto res = run_parse(c.args);
    ICSR_CHECK_CASE(res.should_run(), c.flag << ": " << res.err_text);
    if (res.should_run())
      ICSR_CHECK_CASE(c.check(*res.opts), c.flag);
    // And the default is different from the value set here: the check must
    // fail on defaults, or it proves nothing.
    auto def = run_parse({});
    ICSR_CHECK_CASE(!c.check(*def.opts),
                    c.flag << " (check passes on defaults)");
  }
  // Every registered flag has a case.
  for (auto& f : flags())
    ICSR_CHECK_CASE(covered.count(f.long_name) == 1, f.long_name);
  CAF_CHECK_EQUAL(covered.size(), flags().size());
}

CAF_TEST(value syntax forms) {
  // --flag=value, --flag value, -f value, -fvalue, -f=value.
  for (auto args :
       std::vector<std::vector<std::string>>{{"--serving-address=1.2.3.4:5"},
                                             {"--serving-address", "1.2.3.4:5"},
                                             {"-a", "1.2.3.4:5"},
                                             {"-a1.2.3.4:5"},
                                             {"-a=1.2.3.4:5"}}) {
    auto res = run_parse(args);
    ICSR_CHECK_CASE(res.should_run()
                      && res.opts->serving.address == "1.2.3.4:5",
                    args.front());
  }
  // The last occurrence of a scalar wins.
  CAF_CHECK_EQUAL(ICSR_PARSE_OK({"-a", "x:1", "-a", "y:2"}).serving.address,
                  "y:2");
  // Empty values, both ways.
  CAF_CHECK_EQUAL(ICSR_PARSE_OK({"--cluster-id="}).serving.cluster_id, "");
  CAF_CHECK_EQUAL(ICSR_PARSE_OK({"--cluster-id", ""}).serving.cluster_id, "");
  // A separate value is taken as is, even when it starts with '-'.
  CAF_CHECK_EQUAL(ICSR_PARSE_OK({"--cluster-id", "-x"}).serving.cluster_id,
                  "-x");
  CAF_CHECK_EQUAL(ICSR_PARSE_OK({"-u", "--weird"}).issuer.ref.name, "--weird");
  // Values may contain '='.
  CAF_CHECK_EQUAL(ICSR_PARSE_OK({"--cluster-id=a=b"}).serving.cluster_id,
                  "a=b");
  // `--` ends the flags.
  CAF_CHECK_EQUAL(ICSR_PARSE_OK({"--cluster-id=x", "--"}).serving.cluster_id,
                  "x");
}

CAF_TEST(booleans follow pflag) {
  struct row {
    std::vector<std::string> args;
    bool value;
  };
  std::vector<row> rows{
    {{"--preserve-certificate-requests"}, true},
    {{"--preserve-certificate-requests=true"}, true},
    {{"--preserve-certificate-requests=false"}, false},
    {{"--preserve-certificate-requests=1"}, true},
    {{"--preserve-certificate-requests=0"}, false},
    {{"--preserve-certificate-requests=T"}, true},
    {{"--preserve-certificate-requests=FALSE"}, false},
    {{"-d"}, true},
    {{"-d=false"}, false},
    {{"-d=true"}, true},
    {{"-d", "--preserve-certificate-requests=false"}, false},
  };
  for (auto& r : rows) {
    auto res = run_parse(r.args);
    ICSR_CHECK_CASE(res.should_run()
                      && res.opts->issuer.preserve_certificate_requests
                           == r.value,
                    istio_csr::config::test::join_args(r.args));
  }
  // Combined short booleans: -de=false is -d plus -e=false.
  auto combined
    = run_parse({"-de=false", "--runtime-issuance-config-map-name=a",
                 "--runtime-issuance-config-map-namespace=b"});
  CAF_REQUIRE(combined.should_run());
  CAF_CHECK(combined.opts->issuer.preserve_certificate_requests);
  CAF_CHECK(!combined.opts->issuer.enabled);
  // `--flag false` does not set false: pflag would set true and ignore
  // "false"; we refuse the stray argument and say why.
  auto e = ICSR_PARSE_ERR({"--issuer-enabled", "false"});
  CAF_CHECK_EQUAL(e, "unexpected argument \"false\": istio-csr takes no "
                     "positional arguments (boolean flags take their value as "
                     "--flag=false)");
  e = ICSR_PARSE_ERR({"--preserve-certificate-requests=yes"});
  CAF_CHECK_EQUAL(e, "invalid argument \"yes\" for \"-d, "
                     "--preserve-certificate-requests\" flag: "
                     "strconv.ParseBool: parsing \"yes\": invalid syntax");
}

CAF_TEST(lists maps and arrays) {
  using strings = std::vector<std::string>;
  // Comma-separated and repeatable; the first use replaces the default.
  CAF_CHECK_EQUAL(ICSR_PARSE_OK({"--serving-certificate-dns-names=a.svc,b.svc",
                                 "--serving-certificate-dns-names", "c.svc"})
                    .tls.serving_certificate_dns_names,
                  (strings{"a.svc", "b.svc", "c.svc"}));
  CAF_CHECK_EQUAL(ICSR_PARSE_OK({"--istiod-cert-istio-revisions=a,b",
                                 "--istiod-cert-istio-revisions=c"})
                    .istiod_cert.istio_revisions,
                  (strings{"a", "b", "c"}));
  // CSV quoting as in pflag.
  CAF_CHECK_EQUAL(ICSR_PARSE_OK({"--ca-trusted-node-accounts=\"a/b,c\",d/e"})
                    .serving.ca_trusted_node_accounts,
                  (strings{"a/b,c", "d/e"}));
  // An empty value is an empty list.
  CAF_CHECK(ICSR_PARSE_OK({"--istiod-cert-istio-revisions="})
              .istiod_cert.istio_revisions.empty());
  auto e = ICSR_PARSE_ERR({"--ca-trusted-node-accounts=a\"b"});
  CAF_CHECK_EQUAL(e, "invalid argument \"a\\\"b\" for "
                     "\"--ca-trusted-node-accounts\" flag: parse error on "
                     "line 1, column 2: bare \" in non-quoted-field");
  // Maps merge across uses, later keys win.
  auto m
    = ICSR_PARSE_OK({"--certificate-request-additional-annotations=a=1,b=2",
                     "--certificate-request-additional-annotations=b=3"})
        .issuer.additional_annotations;
  CAF_CHECK(m == (std::map<std::string, std::string>{{"a", "1"}, {"b", "3"}}));
  e = ICSR_PARSE_ERR({"--certificate-request-additional-annotations=foo"});
  CAF_CHECK_EQUAL(e, "invalid argument \"foo\" for "
                     "\"--certificate-request-additional-annotations\" flag: "
                     "foo must be formatted as key=value");
}

CAF_TEST(numbers and durations) {
  CAF_CHECK_EQUAL(ICSR_PARSE_OK({"--max-concurrent-reconciles=0x10"})
                    .controller.max_concurrent_reconciles,
                  16);
  CAF_CHECK_EQUAL(ICSR_PARSE_OK({"-v3"}).telemetry.log_level, 3);
  auto e = ICSR_PARSE_ERR({"--metrics-port=abc"});
  CAF_CHECK_EQUAL(e, "invalid argument \"abc\" for \"--metrics-port\" flag: "
                     "strconv.ParseInt: parsing \"abc\": invalid syntax");
  e = ICSR_PARSE_ERR({"--serving-certificate-key-size=99999999999"});
  CAF_CHECK(e.find("value out of range") != std::string::npos);
  e = ICSR_PARSE_ERR({"-m", "1d"});
  CAF_CHECK_EQUAL(e, "invalid argument \"1d\" for \"-m, "
                     "--max-client-certificate-duration\" flag: time: unknown "
                     "unit \"d\" in duration \"1d\"");
  e = ICSR_PARSE_ERR({"--serving-certificate-duration=60"});
  CAF_CHECK(e.find("time: missing unit in duration \"60\"")
            != std::string::npos);
  CAF_CHECK(ICSR_PARSE_OK({"--max-client-certificate-duration=1.5h"})
              .serving.max_client_certificate_duration
            == 90min);
  CAF_CHECK(ICSR_PARSE_OK({"--request-timeout=30"}).kube.request_timeout
            == 30s);
  CAF_CHECK(ICSR_PARSE_OK({"--request-timeout=0"}).kube.request_timeout == 0ms);
  CAF_CHECK(ICSR_PARSE_OK({"--request-timeout=1us"}).kube.request_timeout
            == 1ms);
  e = ICSR_PARSE_ERR({"--request-timeout=-1"});
  CAF_CHECK(e.find("Invalid timeout value") != std::string::npos);
  e = ICSR_PARSE_ERR({"--kube-api-qps=fast"});
  CAF_CHECK(e.find("strconv.ParseFloat") != std::string::npos);
}

CAF_TEST(command line errors) {
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"--nope"}), "unknown flag: --nope");
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"--nope=1"}), "unknown flag: --nope");
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"-x"}), "unknown shorthand flag: 'x' in -x");
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"-dx"}), "unknown shorthand flag: 'x' in -x");
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"--serving-address"}),
                  "flag needs an argument: --serving-address");
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"-a"}), "flag needs an argument: 'a' in -a");
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"---x"}), "bad flag syntax: ---x");
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"stray"}),
                  "unexpected argument \"stray\": istio-csr takes no "
                  "positional arguments");
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"--", "stray"}),
                  "unexpected argument \"stray\": istio-csr takes no "
                  "positional arguments");
}

CAF_TEST(help and version exit zero) {
  for (auto args : std::vector<std::vector<std::string>>{
         {"--help"}, {"-h"}, {"--cluster-id=x", "--help"}, {"-dh"}}) {
    auto res = run_parse(args);
    ICSR_CHECK_CASE(!res.should_run() && res.exit_code == 0
                      && res.out_text.find("Usage:") != std::string::npos
                      && res.err_text.empty(),
                    args.front());
  }
  auto v = run_parse({"--version"});
  CAF_CHECK(!v.should_run());
  CAF_CHECK_EQUAL(v.exit_code, 0);
  CAF_CHECK_EQUAL(v.out_text, "istio-csr " + version() + "\n");
  CAF_CHECK(!version().empty());
  // Errors before --help win, as in pflag.
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"--nope", "--help"}), "unknown flag: --nope");
}

CAF_TEST(token audiences come from the environment) {
  using strings = std::vector<std::string>;
  auto res = run_parse({}, {{"TOKEN_AUDIENCES", "istio-ca,other"}});
  CAF_REQUIRE(res.should_run());
  CAF_CHECK_EQUAL(res.opts->token_audiences, (strings{"istio-ca", "other"}));
  res = run_parse({}, {{"TOKEN_AUDIENCES", "single"}});
  CAF_REQUIRE(res.should_run());
  CAF_CHECK_EQUAL(res.opts->token_audiences, strings{"single"});
  for (auto bad : {"", "a,,b", "a,", ",a"}) {
    auto r = run_parse({}, {{"TOKEN_AUDIENCES", bad}});
    ICSR_CHECK_CASE(!r.should_run() && r.exit_code == 1
                      && r.err_text.find("TOKEN_AUDIENCES must be a "
                                         "comma-separated list without empty "
                                         "entries")
                           != std::string::npos,
                    bad);
  }
  // Other variables are not read.
  res = run_parse({}, {{"CLUSTER_ID", "x"}});
  CAF_REQUIRE(res.should_run());
  CAF_CHECK_EQUAL(res.opts->serving.cluster_id, "Kubernetes");
}
