#pragma once

// Shared helpers of the devcluster issuer tests: one cluster per test
// process (a devcluster, which runs the controllers in-process, or the real
// cluster of ISTIO_CSR_TEST_KUBECONFIG plus `devcluster issuer` beside it),
// kubectl as the independent client, and test CAs made with pki/.

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pki/certificate.hpp"
#include "pki/private_key.hpp"
#include "tests/support/test_cluster.hpp"

namespace istio_csr::test::issuer {

using nlohmann::json;

/// The cluster of this test process, started on first use (nullptr if it
/// cannot start; the reason is printed).
test_cluster* cluster();

/// A scratch directory of this test process.
const temp_dir& scratch();

/// `kubectl args...` (stdin `input`); fails the test on a non-zero exit.
std::string kubectl(const std::vector<std::string>& args,
                    const std::string& input = {});

/// `kubectl create -f -` of `object`.
void create(const json& object);

/// `kubectl get KIND NAME [-n NS] -o json`, nullopt when not found.
std::optional<json> get(const std::string& kind, const std::string& ns,
                        const std::string& name);

/// Polls `get` until `pred` holds (deadline `timeout`); returns the last
/// object seen (nullopt if none) and whether `pred` held.
std::pair<std::optional<json>, bool>
wait_for(const std::string& kind, const std::string& ns,
         const std::string& name, const std::function<bool(const json&)>& pred,
         std::chrono::milliseconds timeout = std::chrono::seconds{30});

/// A fresh namespace (unique name) for one test.
std::string make_namespace(const std::string& prefix);

/// The condition `type` of `obj`, or null JSON.
json condition(const json& obj, const std::string& type);

/// `condition(obj, type).status == status`.
bool has_condition(const json& obj, const std::string& type,
                   const std::string& status);

/// A CSR PEM for `key` with the given SANs (istio's subject: one empty O).
std::string make_csr_pem(const pki::private_key& key,
                         const std::vector<std::string>& uris,
                         const std::vector<std::string>& dns = {});

/// A CertificateRequest for `csr_pem`.
json make_request(const std::string& ns, const std::string& name,
                  const std::string& csr_pem, const std::string& issuer,
                  const std::string& kind = "Issuer",
                  const std::vector<std::string>& usages = {},
                  const std::string& duration = {}, bool is_ca = false);

/// A CA: certificate and key.
struct test_ca {
  pki::certificate cert;
  pki::private_key key;
};

/// A self-signed root CA (EC P-256 unless `rsa`).
test_ca make_root(const std::string& cn, bool rsa = false,
                  std::chrono::hours life = std::chrono::hours{24 * 365});

/// An intermediate CA signed by `parent`.
test_ca make_intermediate(const std::string& cn, const test_ca& parent,
                          std::chrono::hours life
                          = std::chrono::hours{24 * 300});

/// A `kubernetes.io/tls` Secret; `ca_crt` omitted when empty.
json make_tls_secret(const std::string& ns, const std::string& name,
                     const std::string& tls_crt, const std::string& tls_key,
                     const std::string& ca_crt);

/// An Issuer (or ClusterIssuer with an empty `ns`) of type CA.
json make_ca_issuer(const std::string& ns, const std::string& name,
                    const std::string& secret_name,
                    const std::map<std::string, std::string>& annotations = {});

/// `status.certificate`/`status.ca` decoded ("" when absent).
std::string status_pem(const json& cr, const std::string& field);

/// Certificates of a PEM bundle, in order.
std::vector<pki::certificate> certs_of(const std::string& pem);

/// `openssl verify -CAfile ca [-untrusted chain] leaf`: exit code and output.
std::pair<int, std::string> openssl_verify(const std::string& leaf_pem,
                                           const std::string& untrusted_pem,
                                           const std::string& ca_pem);

/// Seconds of validity of `cert`.
int64_t lifetime_seconds(const pki::certificate& cert);

} // namespace istio_csr::test::issuer
