#include "config/parse.hpp"

#include <cstdio>
#include <cstdlib>
#include <memory>

#include <CLI/CLI.hpp>

#include "caf/sec.hpp"

#include "config/go_duration.hpp"
#include "config/go_values.hpp"
#include "config/validate.hpp"
#include "errors/describe.hpp"
#include "kube/api/validation.hpp"

#ifndef ICSR_VERSION
#define ICSR_VERSION "0.0.0"
#endif

namespace istio_csr::config {

namespace {

// -- the flag table -----------------------------------------------------------

/// Applies every occurrence of one flag (values in command-line order).
using apply_fn = std::function<caf::error(const std::vector<std::string>&)>;

struct entry {
  flag_info info;
  bool is_bool = false;
  CLI::Option* opt = nullptr;
  apply_fn apply;
};

// Go's %q for the characters that matter on a command line.
std::string quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

std::string format_float(double x) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%g", x);
  return buf;
}

/// Registers flags with CLI11 (for help and option matching) and remembers
/// how to convert their values with Go semantics.
class flag_set {
 public:
  explicit flag_set(CLI::App& app) : app_(app) {}

  void section(std::string name) {
    group_ = std::move(name);
  }

  void string(std::string names, std::string& target, std::string help) {
    add(std::move(names), "string", target.empty() ? "" : quote(target),
        std::move(help), false, [&target](const auto& values) {
          target = values.back();
          return caf::error{};
        });
  }

  void boolean(std::string names, bool& target, std::string help) {
    add(std::move(names), "bool", target ? "true" : "", std::move(help), true,
        [&target](const auto& values) {
          // The normaliser already turned every value into true/false.
          target = values.back() == "true";
          return caf::error{};
        });
  }

  void integer(std::string names, int& target, std::string help) {
    add(std::move(names), "int", target == 0 ? "" : std::to_string(target),
        std::move(help), false, [&target](const auto& values) {
          auto v = parse_go_int(values.back(), 32);
          if (!v)
            return std::move(v.error());
          target = static_cast<int>(*v);
          return caf::error{};
        });
  }

  void floating(std::string names, double& target, std::string help) {
    add(std::move(names), "float32", target == 0 ? "" : format_float(target),
        std::move(help), false, [&target](const auto& values) {
          auto v = parse_go_float(values.back());
          if (!v)
            return std::move(v.error());
          target = *v;
          return caf::error{};
        });
  }

  void go_duration(std::string names, duration& target, std::string help) {
    add(std::move(names), "duration",
        target == duration::zero() ? "" : format_go_duration(target),
        std::move(help), false, [&target](const auto& values) {
          auto v = parse_go_duration(values.back());
          if (!v)
            return std::move(v.error());
          target = *v;
          return caf::error{};
        });
  }

  void optional_int64(std::string names, std::optional<int64_t>& target,
                      std::string help) {
    add(std::move(names), "int64", "", std::move(help), false,
        [&target](const auto& values) {
          auto v = parse_go_int(values.back(), 64);
          if (!v)
            return std::move(v.error());
          target = *v;
          return caf::error{};
        });
  }

  void kube_timeout(std::string names, std::chrono::milliseconds& target,
                    std::string help) {
    add(std::move(names), "string", quote("0"), std::move(help), false,
        [&target](const auto& values) {
          auto v = parse_kube_timeout(values.back());
          if (!v)
            return std::move(v.error());
          // Round up so that a sub-millisecond timeout does not become 0
          // ("no timeout").
          target = std::chrono::ceil<std::chrono::milliseconds>(*v);
          return caf::error{};
        });
  }

  void string_slice(std::string names, std::vector<std::string>& target,
                    std::string help) {
    add(std::move(names), "strings", target.empty() ? "" : format_list(target),
        std::move(help), false, [&target](const auto& values) {
          // pflag: the first use replaces the default, later uses append.
          std::vector<std::string> result;
          for (auto& v : values) {
            auto items = parse_csv_list(v);
            if (!items)
              return std::move(items.error());
            result.insert(result.end(), items->begin(), items->end());
          }
          target = std::move(result);
          return caf::error{};
        });
  }

  void string_array(std::string names, std::vector<std::string>& target,
                    std::string help) {
    add(std::move(names), "stringArray",
        target.empty() ? "" : format_list(target), std::move(help), false,
        [&target](const auto& values) {
          target = values;
          return caf::error{};
        });
  }

  void string_map(std::string names, std::map<std::string, std::string>& target,
                  std::string help) {
    add(std::move(names), "stringToString",
        target.empty() ? "" : format_map(target), std::move(help), false,
        [&target](const auto& values) {
          // pflag: the first use replaces the default, later uses merge.
          std::map<std::string, std::string> result;
          for (auto& v : values) {
            auto m = parse_string_map(v);
            if (!m)
              return std::move(m.error());
            for (auto& [k, val] : *m)
              result[k] = val;
          }
          target = std::move(result);
          return caf::error{};
        });
  }

  std::vector<entry>& entries() {
    return entries_;
  }

 private:
  void add(std::string names, std::string type_name, std::string default_text,
           std::string help, bool is_bool, apply_fn apply) {
    entry e;
    auto comma = names.find(',');
    if (comma != std::string::npos) {
      e.info.short_name = names[1];
      e.info.long_name = names.substr(comma + 3);
    } else {
      e.info.long_name = names.substr(2);
    }
    e.info.group = group_;
    e.info.type_name = type_name;
    e.info.default_text = default_text;
    e.is_bool = is_bool;
    e.apply = std::move(apply);
    if (!default_text.empty()) {
      help += " (default ";
      help += default_text;
      help += ')';
    }
    if (is_bool) {
      // Note: CLI11 binds a non-const string argument as the result
      // variable, so the description is set separately.
      e.opt = app_.add_flag(names)->description(help);
    } else {
      e.opt = app_.add_option(names)->description(help);
      e.opt->type_name(type_name)->type_size(1)->expected(1)->allow_extra_args(
        false);
    }
    e.opt->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)->group(group_);
    entries_.emplace_back(std::move(e));
  }

  CLI::App& app_;
  std::string group_;
  std::vector<entry> entries_;
};

void define_flags(flag_set& fs, options& o) {
  fs.section("Serving (gRPC)");
  fs.string("-a,--serving-address", o.serving.address,
            "Address to serve certificates gRPC service.");
  fs.go_duration("-m,--max-client-certificate-duration",
                 o.serving.max_client_certificate_duration,
                 "Maximum duration a client certificate can be requested and "
                 "valid for. Will override with this value if the requested "
                 "duration is larger.");
  fs.string("--cluster-id", o.serving.cluster_id,
            "The ID of the istio cluster to verify.");
  fs.boolean("--enable-client-cert-authenticator",
             o.serving.enable_client_cert_authenticator,
             "Enable the client certificate authenticator: callers may "
             "authenticate with a TLS client certificate.");
  fs.string_slice("--ca-trusted-node-accounts",
                  o.serving.ca_trusted_node_accounts,
                  "A list of service accounts (namespace/serviceaccount) that "
                  "are allowed to impersonate other identities on their node "
                  "(ambient ztunnel).");
  fs.integer("--max-concurrent-requests", o.serving.max_concurrent_requests,
             "Maximum number of certificate requests handled at once; more "
             "are answered RESOURCE_EXHAUSTED, which istio-agent and ztunnel "
             "retry.");
  fs.go_duration("--token-review-cache-ttl", o.serving.token_review_cache_ttl,
                 "How long a successful TokenReview is reused for the same "
                 "token and audiences (never past the token's expiry); a "
                 "revoked token is accepted for up to this long. 0 disables "
                 "the cache.");
  fs.go_duration("--request-read-timeout", o.serving.request_read_timeout,
                 "How long a client has to send what it started: its HTTP/2 "
                 "preface after the TLS handshake, and each whole request "
                 "after opening its stream. Then its connection is closed "
                 "with a GOAWAY (ENHANCE_YOUR_CALM).");
  fs.go_duration("--shutdown-grace-period", o.serving.shutdown_grace_period,
                 "How long the shutdown after SIGTERM may take in all: calls "
                 "in flight get min(15s, 60%) of it to finish while the "
                 "leader Lease is released, the actors the rest; past it the "
                 "process exits with status 1. Keep it below the pod's "
                 "terminationGracePeriodSeconds.");

  fs.section("Issuer / cert-manager");
  fs.string("-c,--certificate-namespace", o.issuer.certificate_namespace,
            "Namespace to request certificates.");
  fs.boolean("-e,--issuer-enabled", o.issuer.enabled,
             "Enable the issuer reference below. If false, runtime "
             "configuration is required.");
  fs.string("-u,--issuer-name", o.issuer.ref.name,
            "Name of the issuer to sign istio workload certificates.");
  fs.string("-k,--issuer-kind", o.issuer.ref.kind,
            "Kind of the issuer to sign istio workload certificates.");
  fs.string("-g,--issuer-group", o.issuer.ref.group,
            "Group of the issuer to sign istio workload certificates.");
  fs.boolean("-d,--preserve-certificate-requests",
             o.issuer.preserve_certificate_requests,
             "If enabled, will preserve created CertificateRequests, rather "
             "than deleting when they are ready (debugging only).");
  fs.string_map("--certificate-request-additional-annotations",
                o.issuer.additional_annotations,
                "Extra annotations (k=v,k2=v2) added to every "
                "CertificateRequest.");
  fs.go_duration("--certificate-request-timeout",
                 o.issuer.certificate_request_timeout,
                 "Server-side deadline for one CertificateRequest to be "
                 "signed; 0 waits until the caller gives up.");
  fs.integer("--max-pending-certificate-requests",
             o.issuer.max_pending_certificate_requests,
             "Maximum number of CertificateRequests waiting for the issuer at "
             "once; more calls are answered UNAVAILABLE (retried by clients) "
             "before creating one.");

  fs.section("Runtime issuer configuration");
  fs.string("--runtime-issuance-config-map-name", o.runtime_config.name,
            "Name of a ConfigMap to watch at runtime for issuer details "
            "(issuer-name, issuer-kind, issuer-group).");
  fs.string("--runtime-issuance-config-map-namespace",
            o.runtime_config.namespace_,
            "Namespace of the runtime issuance ConfigMap. Runtime "
            "configuration is active only if name and namespace are set.");

  fs.section("TLS / root CA");
  fs.string("--trust-domain", o.tls.trust_domain,
            "The Istio cluster's trust domain.");
  fs.string("--root-ca-file", o.tls.root_ca_file,
            "File location of a PEM encoded Root CA certificate bundle used "
            "as the mesh roots; watched for changes. If empty, the CA "
            "returned by the issuer for the serving certificate is used.");
  fs.go_duration("-t,--serving-certificate-duration",
                 o.tls.serving_certificate_duration,
                 "Certificate duration of serving certificates. Will be "
                 "renewed after 2/3 of the duration.");
  fs.string_slice("--serving-certificate-dns-names",
                  o.tls.serving_certificate_dns_names,
                  "A list of DNS names to request for the server's serving "
                  "certificate which is presented to istio-agents.");
  fs.integer("--serving-certificate-key-size",
             o.tls.serving_certificate_key_size,
             "Key size of the serving certificate: RSA bits (at least 2048), "
             "or 256 or 384 for ECDSA.");
  fs.string("--serving-signature-algorithm", o.tls.serving_signature_algorithm,
            "Key algorithm of the serving certificate: RSA or ECDSA.");
  fs.string("--serving-tls-min-version", o.tls.serving_tls_min_version,
            "Minimum TLS version of the gRPC server: VersionTLS12 or "
            "VersionTLS13 (empty means VersionTLS12).");
  fs.string_slice("--serving-tls-cipher-suites",
                  o.tls.serving_tls_cipher_suites,
                  "Comma-separated list of cipher suites (IANA names) for the "
                  "gRPC server; TLS 1.2 only. Empty means library defaults.");
  fs.string_slice("--serving-tls-curve-preferences",
                  o.tls.serving_tls_curve_preferences,
                  "Ordered list of TLS key-exchange curves: X25519, CurveP256 "
                  "(P-256, P256), CurveP384 (P-384, P384), CurveP521 (P-521, "
                  "P521) or a decimal curve ID. Empty means library "
                  "defaults.");

  fs.section("Controller");
  fs.string("--leader-election-namespace",
            o.controller.leader_election_namespace,
            "Namespace to use for controller leader election.");
  fs.string("--configmap-namespace-selector",
            o.controller.configmap_namespace_selector,
            "Kubernetes label selector of the namespaces that receive the "
            "istio-ca-root-cert ConfigMap (empty selects all).");
  fs.boolean("--disable-kubernetes-client-rate-limiter",
             o.kube.disable_rate_limiter,
             "Disable the client-side rate limiter of the Kubernetes client.");
  fs.go_duration("--leader-election-lease-duration",
                 o.controller.leader_election_lease_duration,
                 "How long a leader-election Lease is valid after its last "
                 "renewal (whole seconds).");
  fs.go_duration("--leader-election-renew-deadline",
                 o.controller.leader_election_renew_deadline,
                 "How long the leader keeps trying to renew its Lease before "
                 "it stops leading; shorter than the lease duration.");
  fs.go_duration("--leader-election-retry-period",
                 o.controller.leader_election_retry_period,
                 "How often the leader renews and candidates try to acquire "
                 "the Lease.");
  fs.integer("--max-concurrent-reconciles",
             o.controller.max_concurrent_reconciles,
             "Maximum number of concurrent reconciles of the ConfigMap and "
             "istiod certificate controllers.");

  fs.section("Dynamic istiod certificate");
  fs.boolean("--istiod-cert-enabled", o.istiod_cert.enabled,
             "Manage the istiod serving Certificate dynamically, following "
             "runtime issuer changes.");
  fs.string("--istiod-cert-name", o.istiod_cert.name,
            "Name of the istiod Certificate.");
  fs.string("--istiod-cert-namespace", o.istiod_cert.namespace_,
            "Namespace of the istiod Certificate (and of istiod).");
  fs.go_duration("--istiod-cert-duration", o.istiod_cert.cert_duration,
                 "Duration of the istiod certificate.");
  fs.go_duration("--istiod-cert-renew-before", o.istiod_cert.renew_before,
                 "How long before expiry the istiod certificate is renewed; "
                 "must be less than its duration.");
  fs.string("--istiod-cert-key-algorithm", o.istiod_cert.key_algorithm,
            "Key algorithm of the istiod certificate: RSA or ECDSA.");
  fs.integer("--istiod-cert-key-size", o.istiod_cert.key_size,
             "Key size of the istiod certificate: RSA at least 2048, ECDSA "
             "256 or 384 (0 picks 2048 or 256).");
  fs.string_slice("--istiod-cert-additional-dns-names",
                  o.istiod_cert.additional_dns_names,
                  "Additional DNS names of the istiod certificate.");
  fs.string_map("--istiod-cert-additional-annotations",
                o.istiod_cert.additional_annotations,
                "Annotations (k=v,k2=v2) set on the istiod Certificate when "
                "it is created.");
  fs.string_slice("--istiod-cert-istio-revisions",
                  o.istiod_cert.istio_revisions,
                  "Istio revisions that get DNS names in the istiod "
                  "certificate (empty means [default]).");

  fs.section("Logging, metrics, readiness");
  fs.integer("-v,--log-level", o.telemetry.log_level,
             "Log level (1-5): 1 info, 2 debug, 3 and more trace.");
  fs.string("--log-format", o.telemetry.log_format_name,
            "Log format: text or json.");
  fs.integer("--readiness-probe-port", o.telemetry.readiness_probe_port,
             "Port to expose the readiness probe.");
  fs.string("--readiness-probe-path", o.telemetry.readiness_probe_path,
            "HTTP path to expose the readiness probe server.");
  fs.integer("--metrics-port", o.telemetry.metrics_port,
             "Port to expose Prometheus metrics on 0.0.0.0 on path "
             "'/metrics'.");

  fs.section("Debugging and chaos testing (off by default)");
  fs.string("--debug-address", o.debug.address,
            "HOST:PORT of the debug endpoint (GET /debug/actors lists the "
            "actor tree, POST /debug/actors/<path>/kill kills an actor; no "
            "authentication). Empty disables it; an empty HOST means "
            "127.0.0.1: only an explicit address listens beyond this host.");
  fs.go_duration("--chaos-kill-interval", o.chaos.kill_interval,
                 "Chaos mode, for chaos tests only: kill a random actor of "
                 "the supervision tree this often (at least 10ms). 0 "
                 "disables it.");
  fs.optional_int64("--chaos-seed", o.chaos.seed,
                    "Seed of chaos mode's choice of victims: the same seed "
                    "over the same tree kills the same actors. Unset: a "
                    "random seed, logged.");
  fs.string_slice("--chaos-actors", o.chaos.actors,
                  "Shell patterns (fnmatch) of the actors chaos mode may "
                  "kill, matched against an actor's path (root/csr-signer-0) "
                  "and its name (csr-signer-0, configmap/default). Empty: "
                  "every actor.");
  fs.boolean("--chaos-include-supervisors", o.chaos.include_supervisors,
             "Let chaos mode kill supervisors too (never the root "
             "supervisor).");
  fs.boolean("--chaos-allow-give-up", o.chaos.allow_give_up,
             "Let chaos mode kill an actor that already failed as often as "
             "its supervisor tolerates, which makes the supervisor give up "
             "(up to the root: the process exits 70). Without it such "
             "actors are spared until their failures age out.");

  fs.section("Kubernetes client");
  auto& k = o.kube;
  fs.string("--kubeconfig", k.kubeconfig,
            "Path to the kubeconfig file to use for CLI requests.");
  fs.string("--cache-dir", k.cache_dir,
            "Default cache directory (accepted, unused).");
  fs.string("--certificate-authority", k.certificate_authority,
            "Path to a cert file for the certificate authority.");
  fs.string("--client-certificate", k.client_certificate,
            "Path to a client certificate file for TLS.");
  fs.string("--client-key", k.client_key, "Path to a client key file for TLS.");
  fs.string("--token", k.token,
            "Bearer token for authentication to the API server.");
  fs.string("--as", k.as,
            "Username to impersonate for the operation. User could be a "
            "regular user or a service account in a namespace.");
  fs.string("--as-uid", k.as_uid, "UID to impersonate for the operation.");
  fs.string_array("--as-group", k.as_group,
                  "Group to impersonate for the operation, this flag can be "
                  "repeated to specify multiple groups.");
  fs.string_array("--as-user-extra", k.as_user_extra,
                  "User extras to impersonate for the operation (key=value), "
                  "this flag can be repeated to specify multiple values for "
                  "the same key.");
  fs.string("--cluster", k.cluster,
            "The name of the kubeconfig cluster to use.");
  fs.string("--user", k.user, "The name of the kubeconfig user to use.");
  fs.string("--context", k.context,
            "The name of the kubeconfig context to use.");
  fs.string("-n,--namespace", k.namespace_,
            "If present, the namespace scope for this CLI request (accepted, "
            "unused).");
  fs.string("-s,--server", k.server,
            "The address and port of the Kubernetes API server.");
  fs.string("--tls-server-name", k.tls_server_name,
            "Server name to use for server certificate validation. If it is "
            "not provided, the hostname used to contact the server is used.");
  fs.boolean("--insecure-skip-tls-verify", k.insecure_skip_tls_verify,
             "If true, the server's certificate will not be checked for "
             "validity. This will make your HTTPS connections insecure.");
  fs.kube_timeout("--request-timeout", k.request_timeout,
                  "The length of time to wait before giving up on a single "
                  "server request. Non-zero values should contain a "
                  "corresponding time unit (e.g. 1s, 2m, 3h). A value of zero "
                  "means don't timeout requests.");
  fs.boolean("--disable-compression", k.disable_compression,
             "If true, opt-out of response compression for all requests to "
             "the server.");
  fs.floating("--kube-api-qps", k.qps,
              "Sustained rate (requests per second) of the Kubernetes "
              "client's rate limiter.");
  fs.integer("--kube-api-burst", k.burst,
             "Burst size of the Kubernetes client's rate limiter.");
}

constexpr std::string_view program_description
  = "istio-csr: a mesh CA agent for Istio that signs workload certificates "
    "through cert-manager CertificateRequests.";

constexpr std::string_view environment_footer
  = "Environment:\n"
    "  TOKEN_AUDIENCES             Comma-separated audiences of every "
    "TokenReview (default \"istio-ca\").\n";

/// The app, the flag table and the options the table writes into.
struct parser_state {
  options opts;
  CLI::App app{std::string{program_description}, "istio-csr"};
  flag_set fs{app};
  CLI::Option* version = nullptr;

  parser_state() {
    app.set_help_flag("-h,--help", "Print this help message and exit.");
    app.get_formatter()->column_width(46);
    app.footer(std::string{environment_footer});
    define_flags(fs, opts);
    version
      = app.add_flag("--version")->description("Print the version and exit.");
  }
};

// -- pflag-compatible argument normalisation --------------------------------

/// Outcome of reading the raw command line.
struct normalized {
  std::vector<std::string> args; ///< `--long=value` / `--long ""` forms
  bool help = false;
  bool version = false;
  std::string error; ///< non-empty: stop with this message
};

std::string flag_display(const entry& e) {
  std::string out;
  if (e.info.short_name != '\0') {
    out += '-';
    out += e.info.short_name;
    out += ", ";
  }
  out += "--";
  out += e.info.long_name;
  return out;
}

/// Applies pflag's rules for splitting names from values, so that CLI11 only
/// ever sees unambiguous forms. Boolean values are checked here (Go's
/// ParseBool), other values when the flag is applied.
normalized normalize(const std::vector<std::string>& raw,
                     std::vector<entry>& table) {
  normalized out;
  auto find_long = [&](std::string_view name) -> entry* {
    for (auto& e : table)
      if (e.info.long_name == name)
        return &e;
    return nullptr;
  };
  auto find_short = [&](char c) -> entry* {
    for (auto& e : table)
      if (e.info.short_name == c)
        return &e;
    return nullptr;
  };
  auto emit = [&](entry& e, std::string_view value) -> bool {
    auto name = "--" + e.info.long_name;
    if (e.is_bool) {
      auto b = parse_go_bool(value);
      if (!b) {
        out.error = "invalid argument " + quote(value) + " for "
                    + quote(flag_display(e))
                    + " flag: " + errors::message(b.error());
        return false;
      }
      out.args.emplace_back(name + (*b ? "=true" : "=false"));
    } else if (value.empty()) {
      // CLI11 drops an empty `--x=` value but accepts `--x ""`.
      out.args.emplace_back(name);
      out.args.emplace_back();
    } else {
      out.args.emplace_back(name + "=" + std::string{value});
    }
    return true;
  };
  auto positional = [&](const std::string& arg, size_t index) {
    std::string msg = "unexpected argument " + quote(arg)
                      + ": istio-csr takes no positional arguments";
    if (index > 0 && parse_go_bool(arg)) {
      // `--flag false`: pflag would silently set the flag to true.
      auto& prev = raw[index - 1];
      if (prev.starts_with("-") && prev.find('=') == std::string::npos)
        msg += " (boolean flags take their value as --flag=" + arg + ")";
    }
    out.error = std::move(msg);
  };
  for (size_t i = 0; i < raw.size(); ++i) {
    auto& arg = raw[i];
    if (arg == "--") {
      if (i + 1 < raw.size())
        positional(raw[i + 1], i + 1);
      return out;
    }
    if (arg.size() > 2 && arg.starts_with("--")) {
      std::string_view body{arg};
      body.remove_prefix(2);
      if (body.front() == '-' || body.front() == '=') {
        out.error = "bad flag syntax: " + arg;
        return out;
      }
      auto eq = body.find('=');
      auto name = body.substr(0, eq);
      if (name == "help") {
        out.help = true;
        return out;
      }
      if (name == "version") {
        out.version = true;
        return out;
      }
      auto* e = find_long(name);
      if (e == nullptr) {
        out.error = "unknown flag: --" + std::string{name};
        return out;
      }
      std::string value;
      if (eq != std::string_view::npos) {
        value = std::string{body.substr(eq + 1)};
      } else if (e->is_bool) {
        value = "true";
      } else if (i + 1 < raw.size()) {
        value = raw[++i];
      } else {
        out.error = "flag needs an argument: " + arg;
        return out;
      }
      if (!emit(*e, value))
        return out;
      continue;
    }
    if (arg.size() > 1 && arg.front() == '-' && arg != "--") {
      std::string_view shorthands{arg};
      shorthands.remove_prefix(1);
      while (!shorthands.empty()) {
        char c = shorthands.front();
        if (c == 'h') {
          out.help = true;
          return out;
        }
        auto* e = find_short(c);
        if (e == nullptr) {
          out.error = "unknown shorthand flag: '" + std::string(1, c) + "' in -"
                      + std::string{shorthands};
          return out;
        }
        std::string value;
        auto rest = shorthands.substr(1);
        if (shorthands.size() > 2 && shorthands[1] == '=') {
          value = std::string{shorthands.substr(2)};
          rest = {};
        } else if (e->is_bool) {
          value = "true";
        } else if (shorthands.size() > 1) {
          value = std::string{shorthands.substr(1)};
          rest = {};
        } else if (i + 1 < raw.size()) {
          value = raw[++i];
        } else {
          out.error = "flag needs an argument: '" + std::string(1, c) + "' in -"
                      + std::string{shorthands};
          return out;
        }
        if (!emit(*e, value))
          return out;
        shorthands = rest;
      }
      continue;
    }
    positional(arg, i);
    return out;
  }
  return out;
}

parse_result fail_result(std::string msg) {
  parse_result res;
  res.exit_code = 1;
  res.err_text = "Error: " + msg + "\n";
  return res;
}

} // namespace

std::optional<std::string> process_env(const std::string& name) {
  if (auto* value = std::getenv(name.c_str()))
    return std::string{value};
  return std::nullopt;
}

parse_result parse(int argc, const char* const* argv, const env_lookup& env) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i)
    args.emplace_back(argv[i]);
  return parse(args, env);
}

parse_result parse(const std::vector<std::string>& args,
                   const env_lookup& env) {
  // Heap-allocated: the CLI11 app holds references into the options.
  auto st = std::make_unique<parser_state>();
  auto norm = normalize(args, st->fs.entries());
  if (norm.help) {
    parse_result res;
    res.out_text = st->app.help();
    return res;
  }
  if (norm.version) {
    parse_result res;
    res.out_text = version_text();
    return res;
  }
  if (!norm.error.empty())
    return fail_result(norm.error);
  try {
    // CLI11 wants the arguments in reverse order.
    std::vector<std::string> reversed(norm.args.rbegin(), norm.args.rend());
    st->app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    return fail_result(e.what());
  }
  for (auto& e : st->fs.entries()) {
    if (e.opt->count() == 0)
      continue;
    if (auto err = e.apply(e.opt->results())) {
      auto& results = e.opt->results();
      // Name the offending value: the first one that fails on its own.
      std::string bad = results.back();
      for (auto& r : results)
        if (e.apply({r})) {
          bad = r;
          break;
        }
      return fail_result("invalid argument " + quote(bad) + " for "
                         + quote(flag_display(e))
                         + " flag: " + errors::message(err));
    }
  }
  auto& o = st->opts;
  if (auto aud = env("TOKEN_AUDIENCES")) {
    auto list = parse_token_audiences(*aud);
    if (!list)
      return fail_result(errors::message(list.error()));
    o.token_audiences = std::move(*list);
  }
  if (auto err = validate(o))
    return fail_result(errors::message(err));
  parse_result res;
  res.opts = std::move(o);
  return res;
}

std::vector<flag_info> flags() {
  parser_state st;
  std::vector<flag_info> out;
  for (auto& e : st.fs.entries())
    out.emplace_back(e.info);
  return out;
}

std::string help_text() {
  parser_state st;
  return st.app.help();
}

std::string version() {
  return ICSR_VERSION;
}

std::string version_text() {
  return "istio-csr " + version() + "\n";
}

} // namespace istio_csr::config
