#pragma once

// Shared by the ConfigMap-distributor and leader-election suites: a fresh
// test cluster per test (devcluster, or ISTIO_CSR_TEST_KUBECONFIG), an admin
// client, the distributor actors (kube-client, root-ca, namespace watcher)
// in a real actor system, and the real istio-csr binary started with
// environment overrides. Include only from CAF test translation units.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "caf/actor_system.hpp"
#include "caf/scoped_actor.hpp"
#include "caf/test/unit_test.hpp"

#include "actors/controllers/configmap_actor.hpp"
#include "actors/controllers/messages.hpp"
#include "actors/signing/root_store.hpp"
#include "actors/supervisor/supervisor.hpp"
#include "actors/system/system_config.hpp"
#include "kube/client/client.hpp"
#include "tests/e2e/fixture.hpp"
#include "tests/support/agent.hpp"
#include "tests/support/process.hpp"
#include "tests/support/test_cluster.hpp"

namespace istio_csr::test::controllers {

using namespace std::chrono_literals;
using json = nlohmann::json;
using labels_map = std::map<std::string, std::string>;
namespace ctl = istio_csr::actors::controllers;
namespace sg = istio_csr::actors::signing;

/// Upstream's test selector (configmap_test.go).
inline const std::string injection_selector = "istio-csr-injection=enabled";
inline const labels_map injected{{"istio-csr-injection", "enabled"}};

/// A fresh self-signed root (PEM).
std::string make_root_pem(const std::string& common_name);

/// One test's cluster and an admin client of it.
class cluster_fixture {
 public:
  cluster_fixture();
  ~cluster_fixture();

  test_cluster& cluster() {
    return *cluster_;
  }

  /// Whether devcluster-only features exist; prints why a test skips
  /// otherwise.
  bool devcluster_only(const char* what);

  std::shared_ptr<kube::client> admin() const {
    return admin_;
  }

  /// One request, synchronously.
  caf::expected<json> call(kube::request req);

  /// Like `call`, failing the test on an error.
  json call_ok(kube::request req);

  /// Creates the namespace `<prefix>-xxxxxx` with `labels`.
  std::string make_namespace(const std::string& prefix,
                             const labels_map& labels = {});

  /// Sets a label of a namespace, or removes it (nullopt).
  void set_label(const std::string& ns, const std::string& key,
                 std::optional<std::string> value);

  /// The `istio-ca-root-cert` ConfigMap of `ns`, nullopt when absent.
  std::optional<json> root_cert(const std::string& ns);

  /// Its resourceVersion, empty when absent.
  std::string root_cert_version(const std::string& ns);

  /// Creates or replaces `istio-ca-root-cert` in `ns` (labels and data
  /// null: left out).
  json put_root_cert(const std::string& ns, json labels, json data);

  /// Whether `ns` has exactly the wanted ConfigMap for `pem` (the label
  /// "true", one data key) within `timeout`.
  bool wait_converged(const std::string& ns, const std::string& pem,
                      std::chrono::milliseconds timeout = 10s);

  /// Whether the ConfigMap of `ns` is exactly as wanted for `pem` now.
  bool converged(const std::string& ns, const std::string& pem);

  /// Installs a devcluster fault configuration (admin API).
  void set_faults(const json& faults);

 private:
  std::unique_ptr<test_cluster> cluster_;
  std::shared_ptr<kube::client> admin_;
  std::vector<std::string> namespaces_;
};

/// Synchronous request to an actor from the test thread.
template <class T, class... Ts>
std::optional<T> ask(caf::actor_system& sys, const caf::actor& dst,
                     Ts&&... xs) {
  caf::scoped_actor self{sys};
  std::optional<T> result;
  self->request(dst, std::chrono::seconds{30}, std::forward<Ts>(xs)...)
    .receive([&](T& x) { result = std::move(x); }, [&](caf::error&) {});
  return result;
}

/// kube-client, root-ca (over `roots`) and the namespace watcher under one
/// supervisor, in a real actor system, against the fixture's cluster.
class distributor_fixture : public cluster_fixture {
 public:
  distributor_fixture();
  ~distributor_fixture();

  /// Starts the actors with `selector`.
  void start(const std::string& selector, ctl::configmap_options cm = {});

  /// Stops them and waits until they are down (also done by the
  /// destructor).
  void stop();

  caf::actor_system& sys() {
    return *sys_;
  }

  /// The namespace watcher's stable handle.
  caf::actor watcher() const;

  ctl::watcher_stats watcher_stats();

  /// Whether the watcher runs a configmap actor for exactly `namespaces`
  /// among `candidates` within `timeout`.
  bool wait_children(const std::vector<std::string>& candidates,
                     const std::vector<std::string>& namespaces,
                     std::chrono::milliseconds timeout = 10s);

  /// The stable handle of the configmap actor of `ns` (invalid if none).
  caf::actor configmap_child(const std::string& ns);

  /// Its stats, nullopt when it has none.
  std::optional<ctl::configmap_stats> configmap_stats(const std::string& ns);

  /// Replaces the roots with a fresh root; returns its PEM.
  std::string rotate_roots(const std::string& common_name);

  std::shared_ptr<sg::root_store> roots;
  std::string root_pem;

 private:
  std::unique_ptr<actors::system_config> cfg_;
  std::unique_ptr<caf::actor_system> sys_;
  actors::supervisor_handle tree_;
  bool running_ = false;
};

/// Starts the real istio-csr against `cluster` (`agent_process::start`)
/// with `--root-ca-file` = `root_file`, the static issuer
/// istio-system/istio-ca, `extra` flags and `env` added to the environment;
/// also waits for its leader-election identity (`leader_identity`). nullptr
/// with `why` on failure.
std::unique_ptr<agent_process>
start_agent(const test_cluster& cluster, const std::string& root_file,
            const std::vector<std::string>& extra,
            const std::map<std::string, std::string>& env, std::string& why);

using e2e::leader_identity;

/// The namespaces in phase Active, via kubectl: the ones the ConfigMap
/// controller must serve (a Terminating one, e.g. of an earlier test on a
/// shared real cluster, gets nothing, as upstream).
std::vector<std::string> active_namespaces(const test_cluster& cluster);

using e2e::read_lease;

} // namespace istio_csr::test::controllers
