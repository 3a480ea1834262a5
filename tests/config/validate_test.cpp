#define CAF_SUITE config.validate
#include "caf/test/unit_test.hpp"

#include "caf/sec.hpp"

#include "config/validate.hpp"
#include "tests/config/config_fixture.hpp"
#include "tests/support/check_case.hpp"

using namespace istio_csr::config;
using namespace std::chrono_literals;
using istio_csr::config::test::run_parse;

namespace {

bool contains(const std::string& s, std::string_view needle) {
  return s.find(needle) != std::string::npos;
}

} // namespace

CAF_TEST(serving dns names must not be empty) {
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"--serving-certificate-dns-names="}),
                  "the list of DNS names to add to the serving certificate is "
                  "empty");
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"--serving-certificate-dns-names", ""}),
                  "the list of DNS names to add to the serving certificate is "
                  "empty");
}

CAF_TEST(serving key algorithm and size) {
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"--serving-certificate-key-size=1024"}),
                  "requested key size does not meet the minimum required size "
                  "of 2048 (requested: 1024)");
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"--serving-signature-algorithm=ECDSA"}),
                  "unsupported serving certificate key size (supported: 256, "
                  "384): 2048");
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"--serving-signature-algorithm=ECDSA",
                                  "--serving-certificate-key-size=521"}),
                  "unsupported serving certificate key size (supported: 256, "
                  "384): 521");
  // Case-sensitive, as upstream.
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"--serving-signature-algorithm=rsa"}),
                  "unknown signature algorithm (supported: \"RSA\", "
                  "\"ECDSA\"): \"rsa\"");
  CAF_CHECK(ICSR_PARSE_OK({"--serving-signature-algorithm=ECDSA",
                           "--serving-certificate-key-size=256"})
              .tls.serving_key_algorithm
            == key_algorithm::ecdsa);
  CAF_CHECK_EQUAL(ICSR_PARSE_OK({"--serving-certificate-key-size=2048"})
                    .tls.serving_certificate_key_size,
                  2048);
}

CAF_TEST(tls min version) {
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"--serving-tls-min-version=VersionTLS11"}),
                  "serving tls min version must be VersionTLS12 or higher");
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"--serving-tls-min-version=VersionTLS10"}),
                  "serving tls min version must be VersionTLS12 or higher");
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"--serving-tls-min-version=TLS1.3"}),
                  "unknown tls version \"TLS1.3\"");
  CAF_CHECK(
    ICSR_PARSE_OK({"--serving-tls-min-version=VersionTLS12"}).tls.min_version
    == tls_version::tls12);
}

CAF_TEST(cipher suites and curves) {
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"--serving-tls-cipher-suites=TLS_BOGUS"}),
                  "Cipher suite TLS_BOGUS not supported or doesn't exist");
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"--serving-tls-cipher-suites="
                                  "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,"
                                  "ECDHE-RSA-AES128-GCM-SHA256"}),
                  "Cipher suite ECDHE-RSA-AES128-GCM-SHA256 not supported or "
                  "doesn't exist");
  auto e = ICSR_PARSE_ERR({"--serving-tls-curve-preferences=not-a-curve"});
  CAF_CHECK(
    contains(e, "unknown serving tls curve preference \"not-a-curve\""));
  e = ICSR_PARSE_ERR({"--serving-tls-curve-preferences=X25519,"});
  CAF_CHECK_EQUAL(e, "empty entry in serving tls curve preferences");
  e = ICSR_PARSE_ERR({"--serving-tls-curve-preferences=65536"});
  CAF_CHECK(contains(e, "\"65536\""));
}

CAF_TEST(log format) {
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"--log-format=xml"}),
                  "invalid log-format; must be either \"text\" or \"json\"");
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"--log-format="}),
                  "invalid log-format; must be either \"text\" or \"json\"");
  CAF_CHECK(ICSR_PARSE_OK({"--log-format=Text"}).telemetry.format
            == log_format::text);
  CAF_CHECK(ICSR_PARSE_OK({"--log-format=json"}).telemetry.format
            == log_format::json);
}

CAF_TEST(overload limits) {
  auto defaults = ICSR_PARSE_OK({});
  CAF_CHECK_EQUAL(defaults.serving.max_concurrent_requests, 2048);
  CAF_CHECK_EQUAL(defaults.issuer.max_pending_certificate_requests, 1024);
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"--max-concurrent-requests=0"}),
                  "max-concurrent-requests must be at least 1, got 0");
  CAF_CHECK_EQUAL(
    ICSR_PARSE_ERR({"--max-pending-certificate-requests=-1"}),
    "max-pending-certificate-requests must be at least 1, got -1");
}

CAF_TEST(token review cache ttl) {
  CAF_CHECK(ICSR_PARSE_OK({}).serving.token_review_cache_ttl == 10s);
  CAF_CHECK(
    ICSR_PARSE_OK({"--token-review-cache-ttl=0"}).serving.token_review_cache_ttl
    == 0s);
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"--token-review-cache-ttl=-1s"}),
                  "token-review-cache-ttl must not be negative, got -1s");
}

CAF_TEST(request read timeout) {
  CAF_CHECK(ICSR_PARSE_OK({}).serving.request_read_timeout == 10s);
  CAF_CHECK(
    ICSR_PARSE_OK({"--request-read-timeout=1s"}).serving.request_read_timeout
    == 1s);
  CAF_CHECK(
    ICSR_PARSE_OK({"--request-read-timeout=5m"}).serving.request_read_timeout
    == 5min);
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"--request-read-timeout=999ms"}),
                  "request-read-timeout must be within 1s and 5m0s, got 999ms");
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"--request-read-timeout=5m1s"}),
                  "request-read-timeout must be within 1s and 5m0s, got 5m1s");
}

CAF_TEST(shutdown grace period) {
  CAF_CHECK(ICSR_PARSE_OK({}).serving.shutdown_grace_period == 25s);
  CAF_CHECK(
    ICSR_PARSE_OK({"--shutdown-grace-period=3s"}).serving.shutdown_grace_period
    == 3s);
  CAF_CHECK(
    ICSR_PARSE_OK({"--shutdown-grace-period=10m"}).serving.shutdown_grace_period
    == 10min);
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"--shutdown-grace-period=0"}),
                  "shutdown-grace-period must be positive, got 0s");
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"--shutdown-grace-period=-1s"}),
                  "shutdown-grace-period must be positive, got -1s");
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"--shutdown-grace-period=10m1s"}),
                  "shutdown-grace-period must be at most 10m0s, got 10m1s");
}

CAF_TEST(max concurrent reconciles) {
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"--max-concurrent-reconciles=0"}),
                  "max-concurrent-reconciles must be at least 1, got 0");
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"--max-concurrent-reconciles=-3"}),
                  "max-concurrent-reconciles must be at least 1, got -3");
}

CAF_TEST(issuer ref and runtime configuration) {
  const std::string runtime_required
    = "runtime configuration parameters for name and namespace are required "
      "if no issuerRef is provided on startup";
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"--issuer-enabled=false"}), runtime_required);
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"-u", "", "-k", "", "-g", ""}),
                  runtime_required);
  // Only one of the two runtime settings does not count.
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"--issuer-enabled=false",
                                  "--runtime-issuance-config-map-name=rc"}),
                  runtime_required);
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"--issuer-enabled=false",
                                  "--runtime-issuance-config-map-namespace=n"}),
                  runtime_required);
  auto pure_runtime = ICSR_PARSE_OK(
    {"-u", "", "-k", "", "-g", "", "--runtime-issuance-config-map-name=rc",
     "--runtime-issuance-config-map-namespace=n"});
  CAF_CHECK(!pure_runtime.issuer.static_issuer);
  CAF_CHECK(pure_runtime.runtime_config.enabled());
  auto partial = [](std::string field) {
    return "invalid issuerRef passed at startup: issuerRef." + field
           + " is a required field if any field is set for issuerRef";
  };
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"--issuer-name="}), partial("Name"));
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"--issuer-kind="}), partial("Kind"));
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"--issuer-group="}), partial("Group"));
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"-u", "", "-k", ""}), partial("Name"));
  // A partial ref is fatal even with runtime configuration.
  CAF_CHECK_EQUAL(
    ICSR_PARSE_ERR({"--issuer-group=", "--runtime-issuance-config-map-name=rc",
                    "--runtime-issuance-config-map-namespace=n"}),
    partial("Group"));
  // A disabled issuer ignores its fields.
  auto disabled
    = ICSR_PARSE_OK({"--issuer-enabled=false",
                     "--issuer-kind=", "--runtime-issuance-config-map-name=rc",
                     "--runtime-issuance-config-map-namespace=n"});
  CAF_CHECK(!disabled.issuer.static_issuer);
  // Static issuer plus runtime configuration: both.
  auto both = ICSR_PARSE_OK({"--runtime-issuance-config-map-name=rc",
                             "--runtime-issuance-config-map-namespace=n"});
  CAF_CHECK(both.issuer.static_issuer.has_value());
  CAF_CHECK(both.runtime_config.enabled());
}

CAF_TEST(istiod certificate rules apply only when enabled) {
  // Disabled: nothing is checked.
  CAF_CHECK(!ICSR_PARSE_OK({"--istiod-cert-renew-before=2h",
                            "--istiod-cert-key-algorithm=DSA",
                            "--istiod-cert-additional-dns-names=*.x"})
               .istiod_cert.enabled);
  // Enabled with defaults: fine.
  auto ok = ICSR_PARSE_OK({"--istiod-cert-enabled"});
  CAF_CHECK_EQUAL(ok.istiod_cert.key_algorithm, "RSA");
  CAF_CHECK_EQUAL(ok.istiod_cert.key_size, 2048);
  // Case-insensitive algorithm; 0 picks the default size.
  auto ec = ICSR_PARSE_OK({"--istiod-cert-enabled",
                           "--istiod-cert-key-algorithm=ecdsa",
                           "--istiod-cert-key-size=0"});
  CAF_CHECK_EQUAL(ec.istiod_cert.key_algorithm, "ECDSA");
  CAF_CHECK_EQUAL(ec.istiod_cert.key_size, 256);
  auto rsa0
    = ICSR_PARSE_OK({"--istiod-cert-enabled", "--istiod-cert-key-algorithm=rsa",
                     "--istiod-cert-key-size=0"});
  CAF_CHECK_EQUAL(rsa0.istiod_cert.key_algorithm, "RSA");
  CAF_CHECK_EQUAL(rsa0.istiod_cert.key_size, 2048);
  const std::string prefix = "invalid istiod certificate options: ";
  CAF_CHECK_EQUAL(
    ICSR_PARSE_ERR({"--istiod-cert-enabled", "--istiod-cert-renew-before=1h"}),
    prefix
      + "istiod-cert-renew-before (1h0m0s) must be less than "
        "istiod-cert-duration (1h0m0s)");
  // ECDSA with the default size 2048 fails (docs/upstream.md §1.6).
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"--istiod-cert-enabled",
                                  "--istiod-cert-key-algorithm=ECDSA"}),
                  prefix
                    + "istiod-cert-key-size must be 256 or 384 for ECDSA, got "
                      "2048");
  CAF_CHECK_EQUAL(
    ICSR_PARSE_ERR({"--istiod-cert-enabled", "--istiod-cert-key-size=1024"}),
    prefix
      + "istiod-cert-key-size must be at least 2048 for RSA, "
        "got 1024");
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"--istiod-cert-enabled",
                                  "--istiod-cert-key-algorithm=Ed25519"}),
                  prefix
                    + "invalid istiod-cert-key-algorithm \"Ed25519\": must be "
                      "RSA or ECDSA");
  // Wildcards are rejected here (unlike the Helm static certificate).
  auto e = ICSR_PARSE_ERR(
    {"--istiod-cert-enabled",
     "--istiod-cert-additional-dns-names=ok.example,*.example"});
  CAF_CHECK(contains(e, "invalid istiod-cert-additional-dns-names entry "
                        "\"*.example\": a lowercase RFC 1123 subdomain"));
  CAF_CHECK(!contains(e, "\"ok.example\""));
  // All errors in one message.
  e = ICSR_PARSE_ERR({"--istiod-cert-enabled", "--istiod-cert-renew-before=2h",
                      "--istiod-cert-key-algorithm=DSA",
                      "--istiod-cert-additional-dns-names=Bad_Name",
                      "--istiod-cert-additional-annotations=a b=c"});
  CAF_CHECK(e.starts_with(prefix));
  CAF_CHECK(contains(e, "istiod-cert-renew-before (2h0m0s) must be less than"));
  CAF_CHECK(contains(e, "; invalid istiod-cert-key-algorithm \"DSA\""));
  CAF_CHECK(contains(e, "; invalid istiod-cert-additional-dns-names entry "
                        "\"Bad_Name\""));
  CAF_CHECK(contains(e, "; istiod-cert-additional-annotations: Invalid value: "
                        "\"a b\""));
  e = ICSR_PARSE_ERR({"--istiod-cert-enabled", "--istiod-cert-name=Istiod"});
  CAF_CHECK(contains(e, "invalid istiod-cert-name \"Istiod\""));
  e = ICSR_PARSE_ERR({"--istiod-cert-enabled", "--istiod-cert-namespace=a.b"});
  CAF_CHECK(contains(e, "invalid istiod-cert-namespace \"a.b\""));
}

CAF_TEST(certificate request annotations follow k8s rules) {
  auto e = ICSR_PARSE_ERR(
    {"--certificate-request-additional-annotations=bad key=v"});
  CAF_CHECK(e.starts_with("certificate-request-additional-annotations: Invalid "
                          "value: \"bad key\": name part must consist of"));
  e = ICSR_PARSE_ERR({"--certificate-request-additional-annotations=/x=v"});
  CAF_CHECK(contains(e, "prefix part must be non-empty"));
  // Keys are checked lower-cased: upper-case prefixes are accepted.
  CAF_CHECK(ICSR_PARSE_OK(
              {"--certificate-request-additional-annotations=Example.COM/a=v"})
              .issuer.additional_annotations.count("Example.COM/a")
            == 1);
  // Total size: 256 KiB of keys and values at most.
  std::string big(256 * 1024 - 1, 'v');
  CAF_CHECK(
    ICSR_PARSE_OK({"--certificate-request-additional-annotations=k=" + big})
      .issuer.additional_annotations.at("k")
      .size()
    == big.size());
  e = ICSR_PARSE_ERR(
    {"--certificate-request-additional-annotations=k=" + big + "v"});
  CAF_CHECK_EQUAL(e, "certificate-request-additional-annotations: Too long: "
                     "must have at most 262144 bytes");
}

CAF_TEST(namespace selector) {
  auto e = ICSR_PARSE_ERR({"--configmap-namespace-selector=a in (b"});
  CAF_CHECK(e.starts_with("invalid configmap-namespace-selector: invalid "
                          "label selector \"a in (b\""));
  auto o = ICSR_PARSE_OK(
    {"--configmap-namespace-selector=env notin (dev), !legacy"});
  CAF_CHECK_EQUAL(o.controller.namespace_selector.to_string(),
                  "env notin (dev),!legacy");
}

CAF_TEST(our own limits) {
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"--kube-api-qps=0"}),
                  "kube-api-qps must be positive, got 0");
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"--kube-api-burst=0"}),
                  "kube-api-burst must be at least 1, got 0");
  // Without the limiter, its settings do not matter.
  CAF_CHECK(ICSR_PARSE_OK(
              {"--kube-api-qps=0", "--disable-kubernetes-client-rate-limiter"})
              .kube.disable_rate_limiter);
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"--metrics-port=70000"}),
                  "--metrics-port must be a port number 0..65535, got 70000");
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"--readiness-probe-port=-1"}),
                  "--readiness-probe-port must be a port number 0..65535, got "
                  "-1");
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"--certificate-request-timeout=-1s"}),
                  "certificate-request-timeout must not be negative, got -1s");
  CAF_CHECK(ICSR_PARSE_OK({"--certificate-request-timeout=0"})
              .issuer.certificate_request_timeout
            == 0s);
}

CAF_TEST(validate works on a value made by hand) {
  options o;
  CAF_CHECK(!validate(o));
  CAF_CHECK(o.issuer.static_issuer.has_value());
  o.controller.max_concurrent_reconciles = 0;
  auto err = validate(o);
  CAF_CHECK(err);
  CAF_CHECK_EQUAL(err.code(), static_cast<uint8_t>(caf::sec::invalid_argument));
  o.controller.max_concurrent_reconciles = 1;
  o.token_audiences = {"a", ""};
  CAF_CHECK(validate(o));
  auto aud = parse_token_audiences("a,b");
  CAF_REQUIRE(aud);
  CAF_CHECK_EQUAL(*aud, (std::vector<std::string>{"a", "b"}));
}

CAF_TEST(debug address is loopback unless given explicitly) {
  auto listen = [](std::string address) {
    return ICSR_PARSE_OK({"--debug-address=" + address}).debug.listen;
  };
  auto l = listen(":6061");
  CAF_CHECK_EQUAL(l.host, "127.0.0.1");
  CAF_CHECK_EQUAL(l.port, 6061u);
  CAF_CHECK(l.loopback);
  CAF_CHECK(listen("localhost:0").loopback);
  CAF_CHECK_EQUAL(listen("localhost:0").host, "127.0.0.1");
  CAF_CHECK(listen("127.0.0.2:1").loopback);
  CAF_CHECK(listen("[::1]:1").loopback);
  CAF_CHECK_EQUAL(listen("[::1]:1").host, "::1");
  CAF_CHECK(listen("[::ffff:127.0.0.1]:1").loopback);
  // Only an explicit address listens beyond this host.
  CAF_CHECK(!listen("0.0.0.0:6061").loopback);
  CAF_CHECK(!listen("10.1.2.3:6061").loopback);
  CAF_CHECK(!listen("[::]:6061").loopback);
  // Off by default.
  CAF_CHECK(!ICSR_PARSE_OK({}).debug.enabled());
  CAF_CHECK(!ICSR_PARSE_OK({}).chaos.enabled());
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"--debug-address=6061"}),
                  "invalid debug-address \"6061\": missing port: want "
                  "HOST:PORT, e.g. 127.0.0.1:6061");
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"--debug-address=:70000"}),
                  "invalid debug-address \":70000\": invalid port \"70000\": "
                  "want a number 0..65535");
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"--debug-address=debug.example:1"}),
                  "invalid debug-address \"debug.example:1\": invalid host "
                  "\"debug.example\": want an IP address or localhost (no host "
                  "names)");
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"--debug-address=::1:1"}),
                  "invalid debug-address \"::1:1\": IPv6 addresses need "
                  "brackets: [::1]:PORT");
}

CAF_TEST(chaos mode flags are checked) {
  auto on = ICSR_PARSE_OK({"--chaos-kill-interval=10ms"}).chaos;
  CAF_CHECK(on.enabled());
  CAF_CHECK(!on.seed);
  CAF_CHECK(on.actors.empty());
  CAF_CHECK(!on.include_supervisors);
  CAF_CHECK(!on.allow_give_up);
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"--chaos-kill-interval=9ms"}),
                  "chaos-kill-interval must be at least 10ms (or 0 to disable "
                  "chaos mode), got 9ms");
  CAF_CHECK_EQUAL(ICSR_PARSE_ERR({"--chaos-kill-interval=-1s"}),
                  "chaos-kill-interval must be at least 10ms (or 0 to disable "
                  "chaos mode), got -1s");
  CAF_CHECK_EQUAL(
    ICSR_PARSE_ERR({"--chaos-kill-interval=1s", "--chaos-actors=csr-[ab"}),
    "invalid chaos-actors pattern \"csr-[ab\": unclosed '[' at offset 4");
  CAF_CHECK_EQUAL(
    ICSR_PARSE_ERR({"--chaos-kill-interval=1s", "--chaos-actors=a,,b"}),
    "invalid chaos-actors pattern \"\": empty pattern");
  CAF_CHECK_EQUAL(
    ICSR_PARSE_ERR({"--chaos-kill-interval=1s", "--chaos-actors=a\\"}),
    "invalid chaos-actors pattern \"a\\\": pattern ends with an escape "
    "('\\')");
  CAF_CHECK(ICSR_PARSE_OK(
              {"--chaos-kill-interval=1s", "--chaos-actors=[]a]*,[!x]?,\\[lit"})
              .chaos.actors.size()
            == 3);
  for (auto flag : {"--chaos-seed=1", "--chaos-actors=x",
                    "--chaos-include-supervisors", "--chaos-allow-give-up"})
    ICSR_CHECK_CASE(ICSR_PARSE_ERR({flag})
                      == "chaos-seed, chaos-actors, chaos-include-supervisors "
                         "and chaos-allow-give-up need chaos-kill-interval",
                    flag);
  CAF_CHECK_EQUAL(
    ICSR_PARSE_ERR({"--chaos-kill-interval=1s", "--chaos-seed=x"}),
    "invalid argument \"x\" for \"--chaos-seed\" flag: strconv.ParseInt: "
    "parsing \"x\": invalid syntax");
}
