#pragma once

// End-to-end harness: a cluster (devcluster, or ISTIO_CSR_TEST_KUBECONFIG),
// the real istio-csr binary started with upstream-style flags, and clients
// that call it as istio-agent and ztunnel do (grpc++, curl, openssl, kubectl
// and csrctl). Include only from CAF test translation units.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "caf/test/unit_test.hpp"

#include "csrctl/ca_call.hpp"
#include "errors/describe.hpp"
#include "pki/certificate.hpp"
#include "pki/csr.hpp"
#include "pki/error.hpp"
#include "pki/private_key.hpp"
#include "tests/support/agent.hpp"
#include "tests/support/process.hpp"
#include "tests/support/sockets.hpp"
#include "tests/support/test_cluster.hpp"

namespace istio_csr::test::e2e {

using namespace std::chrono_literals;
using json = nlohmann::json;

/// Names the agent is started with (upstream's e2e values).
inline const std::string serving_dns
  = "cert-manager-istio-csr.cert-manager.svc";
inline const std::string alt_serving_dns = "istio-csr.cert-manager.svc";
inline const std::string certificate_namespace = "istio-system";
inline const std::string policy_annotation
  = "custom.cert-manager.io/policy-name";
inline const std::string identities_annotation
  = "istio.cert-manager.io/identities";
/// devcluster's test behaviour of an Issuer (devcluster/issuer/issuers.hpp).
inline const std::string behaviour_annotation
  = "devcluster.istio-csr.io/behaviour";

/// Whether `haystack` contains `needle`.
inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

/// The gRPC codes istio-agent retries (docs/istio-clients.md §A.2).
bool retriable(int grpc_code);

template <class T>
T unwrap(caf::expected<T> x) {
  if (!x)
    CAF_FAIL("unexpected error: " << errors::message(x.error()));
  return std::move(*x);
}

/// `kubectl ... -o json`, parsed; null on failure (the error in `err`).
json kubectl_json(const test_cluster& cluster,
                  const std::vector<std::string>& args,
                  std::string* err = nullptr);

/// The Lease `istio-system/istio-csr` (null when absent), via kubectl.
json read_lease(const test_cluster& cluster,
                const std::string& namespace_ = "istio-system",
                const std::string& name = "istio-csr");

/// The holderIdentity `agent` logged ("attempting to acquire leader lease
/// ... identity=..."); empty if it logged none within 60 s.
std::string leader_identity(const agent_process& agent);

/// Every CertificateRequest in the certificate namespace.
std::vector<json> certificate_requests(const test_cluster& cluster);

/// The CertificateRequest whose spec.request is exactly `csr_pem`.
std::optional<json> find_request(const test_cluster& cluster,
                                 const std::string& csr_pem);

/// `spec.request`, `status.certificate` and `status.ca` decoded.
std::string decoded(const json& object, const std::vector<std::string>& path);

/// Creates (or updates) a CA Issuer `name` on the Secret `secret` in the
/// certificate namespace; empty on success, else the error.
std::string create_ca_issuer(const test_cluster& cluster,
                             const std::string& name,
                             const std::string& secret);

/// Sets devcluster's test behaviour (`behaviour_annotation`) of the Issuer
/// `name` in the certificate namespace; fails the test on error.
void set_issuer_behaviour(const test_cluster& cluster, const std::string& name,
                          const std::string& behaviour);

/// The root a CA Issuer signs with (`ca.crt`, else `tls.crt`, of its
/// Secret): the root the agent distributes and returns last. Empty with
/// `err` set on failure.
std::string issuer_root(const test_cluster& cluster,
                        const std::string& issuer_name, std::string& err);

/// The value of the sample `series` (name and labels exactly as exposed) in
/// a Prometheus text exposition, or -1 when it has no such sample.
double metric_sample(const std::string& text, const std::string& series);

/// A token for `namespace_/service_account` from `kubectl create token`
/// (TokenRequest), audience `istio-ca` unless given.
std::string mint_token(const test_cluster& cluster,
                       const std::string& namespace_,
                       const std::string& service_account,
                       const std::string& audience = "istio-ca");

/// A key and CSR in istio-agent's shape, with the given SANs.
struct workload_csr {
  pki::private_key key;
  std::string pem;
};

workload_csr make_csr(const pki::subject_alt_names& sans, bool rsa = false,
                      std::optional<std::string> common_name = {});

/// A CSR for exactly one URI.
workload_csr make_csr(const std::string& uri, bool rsa = false);

/// One CreateCertificate call.
struct call_options {
  /// `authorization: Bearer` (none when empty); `environment::call` fills
  /// in the workload's token when unset.
  std::optional<std::string> token;
  std::string cluster_id = "Kubernetes";
  std::map<std::string, std::string> metadata{{"CertSigner", ""}};
  int64_t validity_seconds = 3600;
  std::string client_cert_pem; ///< TLS client certificate chain
  std::string client_key_pem;
  std::chrono::milliseconds timeout = 30s;
};

struct call_result {
  int code = -1;
  std::string message;
  std::vector<std::string> chain;
  std::chrono::milliseconds elapsed{0};

  bool ok() const noexcept {
    return code == 0;
  }

  std::string describe() const {
    return csrctl::status_code_name(code) + ": " + message;
  }
};

/// Calls the agent at `address` with csrctl's client
/// (`csrctl::create_certificate`: grpc++ over TLS, a connection of its own),
/// trusting `root_pem` for the server name `serving_dns`.
call_result create_certificate(const std::string& address,
                               const std::string& root_pem,
                               const std::string& csr_pem,
                               const call_options& opts);

/// What `curl_create_certificate` saw.
struct curl_result {
  int exit_code = -1;
  /// curl's "%{http_version} %{http_code}", e.g. "2 200".
  std::string http;
  /// The `grpc-status` and `grpc-message` values ("" when absent).
  std::string grpc_status;
  std::string grpc_message;
  std::vector<std::string> chain;
  std::chrono::milliseconds elapsed{0};
  /// curl's output and the response headers, for failure messages.
  std::string diagnostics;
};

/// Calls the agent at 127.0.0.1:`port` as ztunnel does, with curl
/// (nghttp2) speaking gRPC by hand: TLS 1.3, AES-128-GCM, ALPN h2, the
/// headers `authorization: Bearer <token>` (raw bytes, as given) and
/// `clusterid: Kubernetes`, an IstioCertificateRequest {csr,
/// validity_duration}. An independent client of our TLS front and HTTP/2
/// server.
curl_result curl_create_certificate(const temp_dir& dir, std::uint16_t port,
                                    const std::string& root_pem,
                                    const std::string& csr_pem,
                                    const std::string& token,
                                    int64_t validity_seconds = 3600);

/// The certificates of a response: the first PEM block of each element
/// before the last, and every block of the last (the root bundle).
struct response_chain {
  pki::certificate leaf;
  std::vector<pki::certificate> intermediates;
  std::vector<pki::certificate> roots;
};

response_chain parse_response(const std::vector<std::string>& chain);

/// `openssl verify -CAfile roots [-untrusted intermediates] leaf`: empty on
/// success, else the output.
std::string openssl_verify(const temp_dir& dir, const std::string& roots_pem,
                           const std::vector<std::string>& intermediates_pem,
                           const std::string& leaf_pem);

/// A self-signed CA (ECDSA P-256).
struct test_ca {
  pki::private_key key;
  pki::certificate cert;
};

test_ca make_root(const std::string& common_name);

/// How the agent is started. Defaults follow upstream's e2e values.
struct agent_settings {
  std::string trust_domain = "foo.bar";
  std::string issuer_name = "istio-ca";
  std::string max_duration = "5m";
  bool preserve = false;
  bool client_cert_auth = false;
  std::string root_ca_file;
  std::string request_timeout; ///< --certificate-request-timeout
  /// Serve /metrics (`agent_options::metrics`).
  bool metrics = false;
  std::vector<std::string> extra_args;
  /// Added to the agent's environment.
  std::map<std::string, std::string> env;
};

/// Starts the real istio-csr against `cluster` with upstream's e2e flags
/// for `settings` (`agent_process::start`). nullptr with `why` on failure.
std::unique_ptr<agent_process>
start_agent(const test_cluster& cluster, const agent_settings& settings,
            std::string& why, std::chrono::milliseconds ready_timeout = 90s);

/// A cluster, an agent, and a workload identity with a token: what most
/// tests need. `error` is set when something could not start.
struct environment {
  std::unique_ptr<test_cluster> cluster;
  std::unique_ptr<agent_process> csr_agent;
  agent_settings settings;
  std::string workload_namespace = "default";
  std::string service_account;
  std::string identity;
  std::string token;
  /// The root the issuer signs with (what the response ends with unless a
  /// root file is given).
  std::string root_pem;
  std::unique_ptr<temp_dir> dir;
  std::string error;

  /// Starts a cluster, creates a service account `e2e-XXXXXX` in
  /// `default`, runs `prepare` (e.g. to create an Issuer or a root file
  /// before the agent starts) and starts the agent with `settings`.
  static std::unique_ptr<environment>
  start(agent_settings settings,
        const std::function<std::string(environment&)>& prepare = {});

  ~environment();

  bool ok() const noexcept {
    return error.empty() && csr_agent != nullptr;
  }

  /// Fails the running test unless `ok()`.
  void require() const;

  /// A call with the workload's token.
  call_result call(const std::string& csr_pem, call_options opts = {}) const;
};

} // namespace istio_csr::test::e2e
