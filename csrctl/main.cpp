// csrctl: the command-line client of istio-csr. `csrctl request` asks the
// agent for a workload certificate exactly as istio-agent does; `csrctl
// load` does so as many workloads at once and reports how it went.

#include <unistd.h>

#include <iostream>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "config/go_duration.hpp"
#include "csrctl/load.hpp"
#include "csrctl/options.hpp"
#include "csrctl/request.hpp"

namespace {

using istio_csr::csrctl::load_options;
using istio_csr::csrctl::request_options;

/// `text` as a Go duration (`1h`, `90s`) given to the option `name`.
template <class Duration>
Duration parse_duration(const std::string& name, const std::string& text) {
  auto d = istio_csr::config::parse_go_duration(text);
  if (!d)
    throw CLI::ValidationError(name, "invalid duration \"" + text
                                       + "\" (Go syntax: 1h, 30m, 90s)");
  return std::chrono::duration_cast<Duration>(*d);
}

/// A CLI11 option that takes a Go duration into `target`.
template <class Duration>
CLI::Option* add_duration(CLI::App& app, const std::string& name,
                          Duration& target, const std::string& help) {
  auto* opt = app.add_option_function<std::string>(
    name,
    [&target, name](const std::string& text) {
      target = parse_duration<Duration>(name, text);
    },
    help);
  opt->default_str(istio_csr::config::format_go_duration(target));
  return opt;
}

/// A CLI11 option that takes a Go duration into `target` when given.
template <class Duration>
CLI::Option* add_duration(CLI::App& app, const std::string& name,
                          std::optional<Duration>& target,
                          const std::string& help) {
  return app.add_option_function<std::string>(
    name,
    [&target, name](const std::string& text) {
      target = parse_duration<Duration>(name, text);
    },
    help);
}

/// A CLI11 option that sets `target` when given.
template <class T>
CLI::Option* add_optional(CLI::App& app, const std::string& name,
                          std::optional<T>& target, const std::string& help) {
  return app.add_option_function<T>(
    name, [&target](const T& value) { target = value; }, help);
}

/// What `request` and `load` share: who is asking, credentials, the agent,
/// the key and the request's metadata.
void add_common_options(CLI::App& cmd, request_options& o, std::string& key) {
  cmd.add_option("--impersonate", o.impersonate,
                 "request this SPIFFE identity as a trusted node agent "
                 "(ztunnel): metadata ImpersonatedIdentity");
  cmd.add_option("--trust-domain", o.trust_domain, "mesh trust domain")
    ->capture_default_str();
  cmd
    .add_option("--cluster-id", o.cluster_id,
                "`clusterid` metadata (empty: not sent)")
    ->capture_default_str();
  cmd.add_option("--kubeconfig", o.kubeconfig,
                 "kubeconfig for TokenRequest and the root lookup (default: "
                 "KUBECONFIG, ~/.kube/config, in-cluster)");
  cmd.add_option("--token-file", o.token_file,
                 "send this token instead of minting one");
  cmd.add_option("--bound-pod", o.bound_pod,
                 "bind the minted token to this pod of --namespace, as "
                 "ztunnel's projected token (needed with --impersonate)");
  cmd.add_flag("--no-token", o.no_token, "send no token");
  cmd.add_option("--audience", o.audience, "audience of the minted token")
    ->capture_default_str();
  cmd.add_option("--address", o.address,
                 "HOST:PORT of the agent (load: several IPv4 HOST:PORTs, "
                 "comma-separated, are called round robin)")
    ->capture_default_str();
  cmd
    .add_option("--server-name", o.server_name,
                "name to verify in the agent's serving certificate")
    ->capture_default_str();
  cmd.add_option("--root-ca", o.root_ca,
                 "PEM roots to trust for the agent (default: ConfigMap "
                 "istio-ca-root-cert in --namespace, or, until it exists, "
                 "the root of the CA issuer --issuer-name)");
  cmd
    .add_option("--issuer-name", o.issuer_name,
                "CA issuer whose root is trusted when istio-ca-root-cert "
                "does not exist yet")
    ->capture_default_str();
  cmd.add_option("--issuer-kind", o.issuer_kind, "Issuer or ClusterIssuer")
    ->capture_default_str();
  cmd
    .add_option("--issuer-namespace", o.issuer_namespace,
                "namespace of the Issuer")
    ->capture_default_str();
  cmd.add_option("--key", key, "workload key: rsa (2048) or ecdsa (P-256)")
    ->check(CLI::IsMember({"rsa", "ecdsa"}))
    ->capture_default_str();
  cmd.add_option("--key-size", o.key_size,
                 "RSA bits, or 256/384 for ECDSA (default 2048 / 256)");
  cmd.add_option("--cert-signer", o.cert_signer,
                 "metadata CertSigner (istio-agent sends it, usually empty)");
}

void add_request_options(CLI::App& cmd, request_options& o, std::string& key,
                         std::string& output) {
  cmd.add_option("-n,--namespace", o.namespace_, "namespace of the workload");
  cmd.add_option("--service-account", o.service_account,
                 "service account of the workload");
  add_common_options(cmd, o, key);
  add_duration(cmd, "--token-expiration", o.token_expiration,
               "lifetime of the minted token (at least 10m)");
  cmd.add_option("--client-cert", o.client_cert,
                 "TLS client certificate (PEM chain), e.g. a certificate "
                 "issued before; without --token-file no token is sent");
  cmd.add_option("--client-key", o.client_key, "key of --client-cert (PEM)");
  add_duration(cmd, "--timeout", o.timeout, "deadline of the call");
  add_duration(cmd, "--duration", o.duration,
               "requested validity (validity_duration)");
  cmd.add_option("-o,--output", output, "text or pem")
    ->check(CLI::IsMember({"text", "pem"}))
    ->capture_default_str();
  cmd.add_option("--key-out", o.key_out,
                 "write the private key to FILE (mode 0600); the key is "
                 "never printed");
  cmd.add_option("--csr-out", o.csr_out, "write the CSR to FILE");
}

void add_load_options(CLI::App& cmd, load_options& o, std::string& key) {
  auto& c = o.call;
  c.namespace_ = "default";
  cmd
    .add_option("-n,--namespace", c.namespace_,
                "namespace of the identities (service accounts load-N, or "
                "--service-account)")
    ->capture_default_str();
  cmd.add_option("--service-account", c.service_account,
                 "call as this one existing service account instead of "
                 "--identities");
  add_common_options(cmd, c, key);
  auto* expiration
    = add_duration(cmd, "--token-expiration", c.token_expiration,
                   "lifetime of the minted tokens (default: 20m, or "
                   "--duration plus 10m if longer)");
  add_duration(cmd, "--timeout", c.timeout, "deadline of each attempt");
  add_duration(cmd, "--cert-duration", c.duration,
               "requested validity (validity_duration)");
  add_optional(cmd, "-c,--concurrency", o.concurrency,
               "closed-loop callers, each making one call after the other "
               "(default 16); with --rate, the calls in flight at most "
               "(default 1000)");
  cmd
    .add_option("--connections", o.connections,
                "HTTP/2 connections, callers spread round-robin")
    ->capture_default_str();
  add_optional(cmd, "--count", o.count,
               "calls to make (with --rate: starts, skipped ones included)");
  add_duration(cmd, "--duration", o.run_for,
               "how long to start calls (default 10s unless --count; with "
               "both, whichever ends first)");
  add_optional(cmd, "--rate", o.rate,
               "calls started per second on a fixed schedule (open loop) "
               "instead of closed-loop callers");
  cmd
    .add_option("--identities", o.identities,
                "service accounts load-0..N-1 in --namespace (created if "
                "missing), one token each, calls spread round-robin")
    ->capture_default_str();
  cmd.add_flag("--retry,!--no-retry", o.retry,
               "istio-agent's retry policy: 5 attempts, 100 ms x 2^n +-10 %, "
               "on CANCELLED, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, "
               "ABORTED, INTERNAL, UNAVAILABLE (default on)");
  cmd.add_flag("--verify", o.verify,
               "check each chain as `csrctl request` does (the leaf carries "
               "exactly the identity and chains to the response's root); "
               "failures count as `verify failed`");
  cmd.add_flag("--json", o.json,
               "print one JSON object instead of the summary");
  cmd.callback(
    [&o, expiration] { o.token_expiration_set = expiration->count() > 0; });
}

istio_csr::csrctl::key_type key_of(const std::string& key) {
  return key == "ecdsa" ? istio_csr::csrctl::key_type::ecdsa
                        : istio_csr::csrctl::key_type::rsa;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"csrctl: the command-line client of istio-csr"};
  app.require_subcommand(1);
  request_options opts;
  std::string key = "rsa";
  std::string output = "text";
  auto* request = app.add_subcommand(
    "request",
    "ask the agent for a workload certificate as istio-agent does: mint a "
    "service-account token (TokenRequest, audience istio-ca), make a key and "
    "a CSR (O=, one critical SAN URI), call CreateCertificate over TLS and "
    "print the chain; exits 1 with `error: CODE: message` when the call "
    "fails");
  add_request_options(*request, opts, key, output);
  load_options load;
  auto* load_cmd = app.add_subcommand(
    "load",
    "call the agent at --address as many workloads at once (closed-loop "
    "callers or a fixed --rate) and report calls, errors by code, retries, "
    "throughput and latency; exits 0 when every call succeeded, 1 when one "
    "did not, 2 on bad options, 130 when interrupted");
  add_load_options(*load_cmd, load, key);
  CLI11_PARSE(app, argc, argv);
  if (load_cmd->parsed()) {
    load.call.key = key_of(key);
    return istio_csr::csrctl::run_load(load, std::cout, std::cerr,
                                       ::isatty(STDERR_FILENO) == 1);
  }
  opts.key = key_of(key);
  opts.output = output == "pem" ? istio_csr::csrctl::output_format::pem
                                : istio_csr::csrctl::output_format::text;
  return istio_csr::csrctl::run_request(opts, std::cout, std::cerr);
}
