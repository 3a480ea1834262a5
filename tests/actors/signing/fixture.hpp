#pragma once

// Shared by the signing-actor suites: the test cluster (one per process),
// a fresh namespace with its own CA Issuer per test, service-account tokens,
// workload CSRs, a recorder of CertificateRequest events and the signing
// tree in a real actor system. Include only from CAF test translation
// units.

#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "caf/actor_system.hpp"
#include "caf/test/unit_test.hpp"

#include "actors/signing/active_issuer.hpp"
#include "actors/signing/root_store.hpp"
#include "actors/signing/signing_tree.hpp"
#include "actors/supervisor/supervisor.hpp"
#include "actors/system/system_config.hpp"
#include "kube/client/client.hpp"
#include "pki/certificate.hpp"
#include "pki/private_key.hpp"
#include "signing_api/sign_errc.hpp"
#include "signing_api/sign_request.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_cluster.hpp"

namespace istio_csr::test::signing {

using namespace std::chrono_literals;
using json = nlohmann::json;
namespace sg = istio_csr::actors::signing;

/// The cluster of this test process (started on first use).
test_cluster& cluster();

/// Whether devcluster-only features (issuer behaviours, faults) exist;
/// prints why a test skips otherwise.
bool devcluster_only(const char* what);

/// An admin client of the test cluster.
std::shared_ptr<kube::client> admin();

/// One request, synchronously (the test thread may block).
caf::expected<json> call(kube::request req);

/// Like `call`, failing the test on an error.
json call_ok(kube::request req);

/// Replaces devcluster's injected faults (`/devcluster/v1/faults`).
void set_faults(const json& faults);

/// Clears devcluster's faults when the test ends, failed or not.
struct faults_guard {
  ~faults_guard() {
    set_faults(json::object());
  }
};

/// The PEM of the CA behind every test namespace's Issuer: devcluster's
/// bootstrap CA (`istio-system/istio-ca`), or on a real cluster without it
/// a CA made by the test process.
const std::string& bootstrap_ca_pem();

/// Deletes the namespaces `make_namespace` made, on a real cluster (a
/// devcluster goes away with the process). Called by `~tree_fixture`.
void delete_test_namespaces();

/// A fresh namespace with a copy of the bootstrap CA Secret and a CA
/// Issuer `istio-ca` (with the devcluster behaviour annotation when
/// `behaviour` is not empty), Ready when this returns.
std::string make_namespace(const std::string& prefix,
                           const std::string& behaviour = {},
                           const std::string& delay = {});

/// Sets (or, with an empty value, removes) the behaviour annotations of
/// `ns/istio-ca`.
void set_behaviour(const std::string& ns, const std::string& behaviour,
                   const std::string& delay = {});

/// A token of `ns/sa` (created if needed) for `audiences`.
std::string sa_token(const std::string& ns, const std::string& sa,
                     const std::vector<std::string>& audiences = {"istio-ca"});

/// `spiffe://cluster.local/ns/<ns>/sa/<sa>`.
std::string spiffe_id(const std::string& ns, const std::string& sa);

/// A CSR as istio-agent makes it (P-256, `O=`, critical SAN URIs).
std::string workload_csr(const std::vector<std::string>& uris);

/// Names of the CertificateRequests in `ns` (all, or with our label).
std::vector<std::string> cr_names(const std::string& ns,
                                  bool ours_only = false);

/// Whether the CertificateRequests of `ns` are all gone within `timeout`.
bool wait_no_crs(const std::string& ns,
                 std::chrono::milliseconds timeout = 20s);

/// Records the watch events of the CertificateRequests of one namespace.
class cr_recorder {
 public:
  explicit cr_recorder(const std::string& ns);
  ~cr_recorder();

  /// The first ADDED object, once seen (within `timeout`).
  std::optional<json> first_added(std::chrono::milliseconds timeout = 20s);

  /// Whether `name` was deleted (within `timeout`).
  bool deleted(const std::string& name,
               std::chrono::milliseconds timeout = 20s);

  /// Every ADDED object so far.
  std::vector<json> added();

 private:
  struct state {
    std::mutex mtx;
    std::vector<json> added;
    std::vector<std::string> deleted;
  };
  // Shared with the watch callbacks, which may outlive this object briefly.
  std::shared_ptr<state> st_ = std::make_shared<state>();
  std::shared_ptr<kube::watch_handle> watch_;
};

/// What a finished signing request answered, in the domain's terms (the
/// gRPC status of each is the bridge's business, tested there).
struct call_result {
  /// "ok", or the `signing_api::sign_errc` name ("unauthenticated", ...).
  std::string code;
  /// The chain when "ok".
  std::vector<std::string> chain;
};

/// A request to sign.
struct sign_args {
  sign_args(std::string csr_pem, std::string bearer = {},
            std::vector<std::string> clusters = {},
            std::optional<signing_api::client_cert_identity> cert = {},
            int64_t validity = 3600)
    : csr(std::move(csr_pem)), token(std::move(bearer)),
      cluster_ids(std::move(clusters)), client_cert(std::move(cert)),
      validity_seconds(validity) {
    // nop
  }

  std::string csr;
  /// Bearer token (none when empty).
  std::string token;
  std::vector<std::string> cluster_ids;
  std::optional<signing_api::client_cert_identity> client_cert;
  int64_t validity_seconds = 3600;
  /// `ImpersonatedIdentity` metadata when not empty.
  std::string impersonate;
  /// The caller's deadline.
  std::chrono::milliseconds deadline = 60s;
};

/// Credentials the cert-obtainer delivered.
struct delivered {
  std::vector<pki::certificate> chain;
  pki::private_key key;
  std::vector<pki::certificate> roots;
};

/// The signing tree of one test in a fresh actor system.
class tree_fixture {
 public:
  tree_fixture();
  ~tree_fixture();

  /// Default settings for namespace `ns` (no cert-obtainer, 2 signers,
  /// the bootstrap CA as roots, the static issuer `istio-ca`).
  sg::signing_setup defaults(const std::string& ns);

  /// Starts the tree.
  void start(sg::signing_setup setup);

  /// Sends one call through the dispatcher (as the gRPC bridge does) and
  /// waits for its answer (at most `wait`).
  call_result sign(const sign_args& args, std::chrono::milliseconds wait = 60s);

  /// Sends one call and returns at once; `get()` the answer.
  std::shared_future<call_result> sign_async(const sign_args& args);

  /// The reply of the last request sent (to cancel it).
  std::shared_ptr<signing_api::callback_reply> last_call() const {
    return last_call_;
  }

  /// A synchronous request to a child's stable handle.
  template <class T, class... Ts>
  T ask(const std::string& child, Ts&&... xs);

  /// Every signer's stats.
  std::vector<sg::signer_stats> signer_stats();

  sg::watcher_stats watcher_stats();

  sg::obtainer_status obtainer_status();

  /// Credentials delivered so far.
  std::vector<delivered> deliveries();

  /// Stops the tree (also done by the destructor).
  void stop();

  caf::actor_system& sys() {
    return *sys_;
  }

  caf::actor child(const std::string& name) const {
    return tree_.child(name);
  }

  /// Ends the current incarnation of child `name` as a crash would (its
  /// supervisor restarts it).
  void kill_child(const std::string& name);

  /// How often child `name` was restarted so far.
  std::size_t restarts(const std::string& name);

  sg::signing_setup setup;

 private:
  std::unique_ptr<actors::system_config> cfg_;
  std::unique_ptr<caf::actor_system> sys_;
  actors::supervisor_handle tree_;
  bool running_ = false;
  std::shared_ptr<signing_api::callback_reply> last_call_;
  std::shared_ptr<std::mutex> deliveries_mtx_ = std::make_shared<std::mutex>();
  std::shared_ptr<std::vector<delivered>> deliveries_
    = std::make_shared<std::vector<delivered>>();
};

/// A tree_fixture with a namespace of its own whose Issuer behaves as a
/// test asks (devcluster only), and the workload `app` in it.
struct behaviour_fixture : tree_fixture {
  std::string ns;
  /// A token of `ns/app`.
  std::string token;
  /// `spiffe_id(ns, "app")`.
  std::string id;

  /// Makes `ns` (`make_namespace(prefix, behaviour, delay)`) and the
  /// workload; false, and the test skips saying it needs `what`, on a real
  /// cluster.
  bool prepare_namespace(const char* what, const std::string& prefix,
                         const std::string& behaviour,
                         const std::string& delay = {});
};

/// Captured log lines (while alive).
class log_capture {
 public:
  log_capture();
  ~log_capture();

  /// Whether a line containing `needle` was logged (within `timeout`).
  bool wait_for(const std::string& needle,
                std::chrono::milliseconds timeout = 10s);

  bool contains(const std::string& needle);

 private:
  std::shared_ptr<std::mutex> mtx_ = std::make_shared<std::mutex>();
  std::shared_ptr<std::string> text_ = std::make_shared<std::string>();
};

} // namespace istio_csr::test::signing

#include "caf/scoped_actor.hpp"

namespace istio_csr::test::signing {

template <class T, class... Ts>
T tree_fixture::ask(const std::string& name, Ts&&... xs) {
  caf::scoped_actor self{*sys_};
  std::optional<T> result;
  self->request(child(name), std::chrono::seconds{30}, std::forward<Ts>(xs)...)
    .receive([&](T& x) { result = std::move(x); },
             [&](caf::error& err) {
               CAF_FAIL("request to " << name
                                      << " failed: " << sys_->render(err));
             });
  return std::move(*result);
}

} // namespace istio_csr::test::signing
