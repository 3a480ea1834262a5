#include "config/validate.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "caf/sec.hpp"

#include "config/glob.hpp"
#include "config/go_duration.hpp"
#include "errors/describe.hpp"
#include "kube/api/validation.hpp"

namespace istio_csr::config {

namespace {

caf::error fail(std::string msg) {
  return caf::make_error(caf::sec::invalid_argument, std::move(msg));
}

std::string format_number(double x) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%g", x);
  return buf;
}

std::string msg_of(const caf::error& err) {
  return errors::message(err);
}

caf::error validate_serving_key(tls_options& tls) {
  auto& alg = tls.serving_signature_algorithm;
  auto size = tls.serving_certificate_key_size;
  // Upstream (istio pkiutil) fails these only when the first CSR is made;
  // failing at startup with the same messages is kinder.
  if (alg == "RSA") {
    if (size < 2048)
      return fail("requested key size does not meet the minimum required size "
                  "of 2048 (requested: "
                  + std::to_string(size) + ")");
    tls.serving_key_algorithm = key_algorithm::rsa;
    return {};
  }
  if (alg == "ECDSA") {
    if (size != 256 && size != 384)
      return fail("unsupported serving certificate key size (supported: 256, "
                  "384): "
                  + std::to_string(size));
    tls.serving_key_algorithm = key_algorithm::ecdsa;
    return {};
  }
  return fail("unknown signature algorithm (supported: \"RSA\", \"ECDSA\"): \""
              + alg + "\"");
}

caf::error validate_tls(tls_options& tls) {
  if (tls.serving_certificate_dns_names.empty())
    return fail("the list of DNS names to add to the serving certificate is "
                "empty");
  if (auto err = validate_serving_key(tls))
    return err;
  auto version = parse_serving_tls_min_version(tls.serving_tls_min_version);
  if (!version)
    return std::move(version.error());
  tls.min_version = *version;
  auto suites = parse_cipher_suites(tls.serving_tls_cipher_suites);
  if (!suites)
    return std::move(suites.error());
  tls.cipher_suites = std::move(*suites);
  auto curves = parse_tls_curves(tls.serving_tls_curve_preferences);
  if (!curves)
    return std::move(curves.error());
  tls.curves = std::move(*curves);
  return {};
}

// docs/upstream.md §3.6 (handleOriginalIssuerRef).
caf::error validate_issuer(issuer_options& issuer,
                           const runtime_config_options& runtime) {
  issuer.static_issuer.reset();
  auto& ref = issuer.ref;
  bool none = ref.name.empty() && ref.kind.empty() && ref.group.empty();
  if (!issuer.enabled || none) {
    if (!runtime.enabled())
      return fail("runtime configuration parameters for name and namespace "
                  "are required if no issuerRef is provided on startup");
    return {};
  }
  auto partial = [](std::string_view field) {
    return fail("invalid issuerRef passed at startup: issuerRef."
                + std::string{field}
                + " is a required field if any field is set for issuerRef");
  };
  if (ref.name.empty())
    return partial("Name");
  if (ref.kind.empty())
    return partial("Kind");
  if (ref.group.empty())
    return partial("Group");
  issuer.static_issuer = ref;
  return {};
}

// docs/upstream.md §1.6: only when enabled; every problem in one message.
caf::error validate_istiod_cert(istiod_cert_options& ic) {
  if (!ic.enabled)
    return {};
  std::vector<std::string> errs;
  if (auto e = kube::dns1123_subdomain_errors(ic.name); !e.empty())
    errs.emplace_back("invalid istiod-cert-name \"" + ic.name
                      + "\": " + kube::join_errors(e));
  if (auto e = kube::dns1123_label_errors(ic.namespace_); !e.empty())
    errs.emplace_back("invalid istiod-cert-namespace \"" + ic.namespace_
                      + "\": " + kube::join_errors(e));
  if (ic.cert_duration <= duration::zero())
    errs.emplace_back("istiod-cert-duration must be positive, got "
                      + format_go_duration(ic.cert_duration));
  if (ic.renew_before >= ic.cert_duration)
    errs.emplace_back("istiod-cert-renew-before ("
                      + format_go_duration(ic.renew_before)
                      + ") must be less than istiod-cert-duration ("
                      + format_go_duration(ic.cert_duration) + ")");
  std::string alg = ic.key_algorithm;
  std::transform(alg.begin(), alg.end(), alg.begin(), [](unsigned char c) {
    return static_cast<char>(std::toupper(c));
  });
  if (alg == "RSA") {
    if (ic.key_size == 0)
      ic.key_size = 2048;
    else if (ic.key_size < 2048)
      errs.emplace_back("istiod-cert-key-size must be at least 2048 for RSA, "
                        "got "
                        + std::to_string(ic.key_size));
    ic.key_algorithm = alg;
  } else if (alg == "ECDSA") {
    if (ic.key_size == 0)
      ic.key_size = 256;
    else if (ic.key_size != 256 && ic.key_size != 384)
      errs.emplace_back("istiod-cert-key-size must be 256 or 384 for ECDSA, "
                        "got "
                        + std::to_string(ic.key_size));
    ic.key_algorithm = alg;
  } else {
    errs.emplace_back("invalid istiod-cert-key-algorithm \"" + ic.key_algorithm
                      + "\": must be RSA or ECDSA");
  }
  for (auto& name : ic.additional_dns_names)
    if (auto e = kube::dns1123_subdomain_errors(name); !e.empty())
      errs.emplace_back("invalid istiod-cert-additional-dns-names entry \""
                        + name + "\": " + kube::join_errors(e));
  for (auto& rev : ic.istio_revisions)
    if (rev.empty())
      errs.emplace_back("istiod-cert-istio-revisions must not contain empty "
                        "entries");
  // Upstream sends these unvalidated and the API server rejects the create;
  // failing at startup is kinder.
  for (auto& e : kube::annotations_errors(ic.additional_annotations,
                                          "istiod-cert-additional-annotations"))
    errs.emplace_back(std::move(e));
  if (errs.empty())
    return {};
  return fail("invalid istiod certificate options: " + kube::join_errors(errs));
}

// ours (docs/debugging.md).
caf::error validate_debug(debug_options& debug, const chaos_options& chaos) {
  if (debug.enabled()) {
    auto listen = parse_listen_address(debug.address);
    if (!listen)
      return fail("invalid debug-address \"" + debug.address
                  + "\": " + msg_of(listen.error()));
    debug.listen = std::move(*listen);
  }
  using namespace std::chrono_literals;
  if (chaos.kill_interval < duration::zero()
      || (chaos.enabled() && chaos.kill_interval < 10ms))
    return fail("chaos-kill-interval must be at least 10ms (or 0 to "
                "disable chaos mode), got "
                + format_go_duration(chaos.kill_interval));
  for (const auto& pattern : chaos.actors)
    if (auto err = validate_glob(pattern))
      return fail("invalid chaos-actors pattern \"" + pattern
                  + "\": " + msg_of(err));
  if (!chaos.enabled()
      && (chaos.seed || !chaos.actors.empty() || chaos.include_supervisors
          || chaos.allow_give_up))
    return fail("chaos-seed, chaos-actors, chaos-include-supervisors and "
                "chaos-allow-give-up need chaos-kill-interval");
  return {};
}

caf::error validate_port(std::string_view flag, int port) {
  if (port < 0 || port > 65535)
    return fail("--" + std::string{flag}
                + " must be a port number 0..65535, got "
                + std::to_string(port));
  return {};
}

} // namespace

caf::expected<std::vector<std::string>>
parse_token_audiences(std::string_view value) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    auto comma = value.find(',', start);
    auto item = value.substr(start, comma == std::string_view::npos
                                      ? std::string_view::npos
                                      : comma - start);
    if (item.empty())
      return fail("TOKEN_AUDIENCES must be a comma-separated list without "
                  "empty entries, got \""
                  + std::string{value} + "\"");
    out.emplace_back(item);
    if (comma == std::string_view::npos)
      break;
    start = comma + 1;
  }
  return out;
}

caf::error validate(options& opts) {
  // Logging first: everything after it may be logged.
  auto& tel = opts.telemetry;
  std::string fmt = tel.log_format_name;
  std::transform(fmt.begin(), fmt.end(), fmt.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  if (fmt == "text")
    tel.format = log_format::text;
  else if (fmt == "json")
    tel.format = log_format::json;
  else
    return fail("invalid log-format; must be either \"text\" or \"json\"");
  if (auto err
      = validate_port("readiness-probe-port", tel.readiness_probe_port))
    return err;
  if (auto err = validate_port("metrics-port", tel.metrics_port))
    return err;
  if (opts.controller.max_concurrent_reconciles < 1)
    return fail("max-concurrent-reconciles must be at least 1, got "
                + std::to_string(opts.controller.max_concurrent_reconciles));
  if (auto err = validate_tls(opts.tls))
    return err;
  if (auto errs
      = kube::annotations_errors(opts.issuer.additional_annotations,
                                 "certificate-request-additional-annotations");
      !errs.empty())
    return fail(kube::join_errors(errs));
  if (opts.serving.max_concurrent_requests < 1)
    return fail("max-concurrent-requests must be at least 1, got "
                + std::to_string(opts.serving.max_concurrent_requests));
  if (opts.issuer.max_pending_certificate_requests < 1)
    return fail("max-pending-certificate-requests must be at least 1, got "
                + std::to_string(opts.issuer.max_pending_certificate_requests));
  if (opts.serving.token_review_cache_ttl < duration::zero())
    return fail("token-review-cache-ttl must not be negative, got "
                + format_go_duration(opts.serving.token_review_cache_ttl));
  if (opts.serving.request_read_timeout < 1s
      || opts.serving.request_read_timeout > max_request_read_timeout)
    return fail("request-read-timeout must be within 1s and "
                + format_go_duration(max_request_read_timeout) + ", got "
                + format_go_duration(opts.serving.request_read_timeout));
  if (opts.serving.shutdown_grace_period <= duration::zero())
    return fail("shutdown-grace-period must be positive, got "
                + format_go_duration(opts.serving.shutdown_grace_period));
  if (opts.serving.shutdown_grace_period > max_shutdown_grace_period)
    return fail("shutdown-grace-period must be at most "
                + format_go_duration(max_shutdown_grace_period) + ", got "
                + format_go_duration(opts.serving.shutdown_grace_period));
  if (opts.issuer.certificate_request_timeout < duration::zero())
    return fail("certificate-request-timeout must not be negative, got "
                + format_go_duration(opts.issuer.certificate_request_timeout));
  if (auto err = validate_issuer(opts.issuer, opts.runtime_config))
    return err;
  if (auto err = validate_istiod_cert(opts.istiod_cert))
    return err;
  auto sel
    = kube::label_selector::parse(opts.controller.configmap_namespace_selector);
  if (!sel)
    return fail("invalid configmap-namespace-selector: " + msg_of(sel.error()));
  opts.controller.namespace_selector = std::move(*sel);
  if (opts.token_audiences.empty())
    return fail("TOKEN_AUDIENCES must name at least one audience");
  for (auto& aud : opts.token_audiences)
    if (aud.empty())
      return fail("TOKEN_AUDIENCES must not contain empty entries");
  if (auto err = validate_debug(opts.debug, opts.chaos))
    return err;
  auto& kube = opts.kube;
  if (!kube.disable_rate_limiter) {
    if (!(kube.qps > 0))
      return fail("kube-api-qps must be positive, got "
                  + format_number(kube.qps));
    if (kube.burst < 1)
      return fail("kube-api-burst must be at least 1, got "
                  + std::to_string(kube.burst));
  }
  return {};
}

} // namespace istio_csr::config
