// csrctl: the command-line client of istio-csr. `csrctl request` asks the
// agent for a workload certificate exactly as istio-agent does.

#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "config/go_duration.hpp"
#include "csrctl/options.hpp"
#include "csrctl/request.hpp"

namespace {

using istio_csr::csrctl::request_options;

/// A CLI11 option that takes a Go duration (`1h`, `90s`) into `target`.
template <class Duration>
CLI::Option* add_duration(CLI::App& app, const std::string& name,
                          Duration& target, const std::string& help) {
  auto* opt = app.add_option_function<std::string>(
    name,
    [&target, name](const std::string& text) {
      auto d = istio_csr::config::parse_go_duration(text);
      if (!d)
        throw CLI::ValidationError(name, "invalid duration \"" + text
                                           + "\" (Go syntax: 1h, 30m, 90s)");
      target = std::chrono::duration_cast<Duration>(*d);
    },
    help);
  opt->default_str(istio_csr::config::format_go_duration(target));
  return opt;
}

void add_request_options(CLI::App& cmd, request_options& o, std::string& key,
                         std::string& output) {
  cmd.add_option("-n,--namespace", o.namespace_, "namespace of the workload");
  cmd.add_option("--service-account", o.service_account,
                 "service account of the workload");
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
  add_duration(cmd, "--token-expiration", o.token_expiration,
               "lifetime of the minted token (at least 10m)");
  cmd.add_option("--client-cert", o.client_cert,
                 "TLS client certificate (PEM chain), e.g. a certificate "
                 "issued before; without --token-file no token is sent");
  cmd.add_option("--client-key", o.client_key, "key of --client-cert (PEM)");
  cmd.add_option("--address", o.address, "HOST:PORT of the agent")
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
  add_duration(cmd, "--timeout", o.timeout, "deadline of the call");
  cmd.add_option("--key", key, "workload key: rsa (2048) or ecdsa (P-256)")
    ->check(CLI::IsMember({"rsa", "ecdsa"}))
    ->capture_default_str();
  cmd.add_option("--key-size", o.key_size,
                 "RSA bits, or 256/384 for ECDSA (default 2048 / 256)");
  add_duration(cmd, "--duration", o.duration,
               "requested validity (validity_duration)");
  cmd.add_option("--cert-signer", o.cert_signer,
                 "metadata CertSigner (istio-agent sends it, usually empty)");
  cmd.add_option("-o,--output", output, "text or pem")
    ->check(CLI::IsMember({"text", "pem"}))
    ->capture_default_str();
  cmd.add_option("--key-out", o.key_out,
                 "write the private key to FILE (mode 0600); the key is "
                 "never printed");
  cmd.add_option("--csr-out", o.csr_out, "write the CSR to FILE");
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
  CLI11_PARSE(app, argc, argv);
  opts.key = key == "ecdsa" ? istio_csr::csrctl::key_type::ecdsa
                            : istio_csr::csrctl::key_type::rsa;
  opts.output = output == "pem" ? istio_csr::csrctl::output_format::pem
                                : istio_csr::csrctl::output_format::text;
  return istio_csr::csrctl::run_request(opts, std::cout, std::cerr);
}
