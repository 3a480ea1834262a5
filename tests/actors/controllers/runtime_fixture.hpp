#pragma once

// Shared by the runtime-issuer and istiod-certificate suites: the actors in
// a real actor system against a fresh test cluster (cluster_fixture), the
// runtime configuration ConfigMap, CA Issuers (an intermediate under
// devcluster's istio-ca, as upstream's runtimeconfig e2e makes it) and the
// istiod Certificate. Include only from CAF test translation units.

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "caf/actor.hpp"
#include "caf/actor_system.hpp"

#include "actors/controllers/istiod_cert.hpp"
#include "actors/controllers/runtime_issuer.hpp"
#include "actors/signing/active_issuer.hpp"
#include "actors/system/system_config.hpp"
#include "kube/api/condition.hpp"
#include "tests/actors/controllers/configmap_fixture.hpp"

namespace istio_csr::test::controllers {

/// The certificate namespace of devcluster's bootstrap issuer `istio-ca`.
inline const std::string istio_system = "istio-system";

/// The issuerRef of an Issuer of group cert-manager.io.
kube::issuer_ref issuer_of(const std::string& name);

/// On a shared real cluster, removes what earlier agents left of the istiod
/// certificate: the Certificate `istio-system/istiod-dynamic`, its Secret
/// `istiod-tls` and the runtime-issuance ConfigMap `cm_namespace/cm_name`
/// (when named). Nothing on devcluster (a fresh cluster per program).
void forget_istiod_state(const test_cluster& cluster,
                         const std::string& cm_namespace = {},
                         const std::string& cm_name = {});

/// Creates (or replaces) the Secret and CA Issuer `name` in `namespace_`:
/// an intermediate CA signed by devcluster's istio-ca root, subject OU
/// `ou`, as cert-manager's CA issuer takes it (tls.crt = intermediate +
/// root, ca.crt = root). Returns the root PEM; fails the test on error.
/// Works with any `test_cluster` (kubectl).
std::string make_intermediate_issuer(const test_cluster& cluster,
                                     const std::string& namespace_,
                                     const std::string& name,
                                     const std::string& ou);

/// Creates (or replaces) a CA Issuer `name` in `namespace_` on the Secret
/// `secret`, with `annotations` (e.g. devcluster's behaviour).
void make_ca_issuer(const test_cluster& cluster, const std::string& namespace_,
                    const std::string& name, const std::string& secret,
                    const std::map<std::string, std::string>& annotations = {});

/// Creates or replaces the ConfigMap `namespace_/name` with `data`
/// (kubectl apply).
void put_config_map(const test_cluster& cluster, const std::string& namespace_,
                    const std::string& name,
                    const std::map<std::string, std::string>& data);

/// Deletes it (kubectl delete).
void delete_config_map(const test_cluster& cluster,
                       const std::string& namespace_, const std::string& name);

/// The data of a runtime configuration naming `ref`.
std::map<std::string, std::string> runtime_data(const kube::issuer_ref& ref);

/// The Certificate `namespace_/name`, null when absent (kubectl).
nlohmann::json get_certificate(const test_cluster& cluster,
                               const std::string& namespace_,
                               const std::string& name);

/// The controller actors in a real actor system against a fresh cluster.
class runtime_fixture : public cluster_fixture {
 public:
  runtime_fixture();
  ~runtime_fixture();

  caf::actor_system& sys() {
    return *sys_;
  }

  /// The active issuer shared with the actors (starts empty; `reset_issuer`
  /// replaces it before actors are spawned).
  std::shared_ptr<actors::signing::active_issuer> issuer;

  void reset_issuer(std::optional<kube::issuer_ref> initial);

  /// Spawns a runtime issuer watcher (killed by the destructor).
  caf::actor
  spawn_runtime_issuer(actors::controllers::runtime_issuer_options o);

  /// Spawns an istiod Certificate controller (killed by the destructor).
  caf::actor spawn_istiod_cert(actors::controllers::istiod_cert_options o);

  /// Kills `hdl` and waits until it is gone.
  void kill(caf::actor hdl);

  actors::controllers::runtime_issuer_status
  runtime_status(const caf::actor& hdl);

  actors::controllers::istiod_cert_status istiod_status(const caf::actor& hdl);

  /// Whether `issuer->get()` equals `want` within `timeout`.
  bool wait_issuer(const std::optional<kube::issuer_ref>& want,
                   std::chrono::milliseconds timeout = 10s);

 private:
  std::unique_ptr<actors::system_config> cfg_;
  std::unique_ptr<caf::actor_system> sys_;
  std::vector<caf::actor> spawned_;
};

} // namespace istio_csr::test::controllers
