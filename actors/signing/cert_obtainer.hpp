#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "caf/actor.hpp"
#include "caf/allowed_unsafe_message_type.hpp"
#include "caf/error.hpp"
#include "caf/fwd.hpp"

#include "actors/signing/certificate_requests.hpp"
#include "actors/signing/cr_watcher.hpp"
#include "kube/client/client_actor.hpp"
#include "pki/certificate.hpp"
#include "pki/private_key.hpp"

namespace istio_csr::actors::signing {

class active_issuer;
class root_store;

/// How the serving certificate is obtained (docs/upstream.md §4).
struct obtainer_options {
  cr_settings cr;
  /// `--serving-certificate-dns-names`: IPs become IP SANs, `spiffe://`
  /// entries URI SANs, the rest DNS SANs.
  std::vector<std::string> dns_names{"cert-manager-istio-csr.cert-manager.svc"};
  /// `--serving-signature-algorithm` (rsa or ec) and
  /// `--serving-certificate-key-size`.
  pki::key_algorithm key_type = pki::key_algorithm::rsa;
  int key_size = 2048;
  /// `--serving-certificate-duration`.
  std::chrono::seconds duration{std::chrono::hours{1}};
  /// With `--root-ca-file` the roots come from the file (root-ca); without,
  /// from each serving CertificateRequest's `status.ca`.
  bool roots_from_file = false;
  /// Timeout of each attempt while no certificate is held (upstream: 10 s).
  std::chrono::milliseconds attempt_timeout{std::chrono::seconds{10}};
  /// Timeout of each renewal attempt (`--certificate-request-timeout`);
  /// zero: none (upstream: none, so a hung request blocked renewal).
  std::chrono::nanoseconds renewal_timeout{std::chrono::seconds{30}};
  /// Retry backoff: doubling from `initial_backoff` to `max_backoff`, with
  /// ±`jitter` (upstream: 1 s → 30 s, 5 %).
  std::chrono::milliseconds initial_backoff{std::chrono::seconds{1}};
  std::chrono::milliseconds max_backoff{std::chrono::seconds{30}};
  double jitter = 0.05;
  /// How often "still waiting for runtime configuration of issuerRef" is
  /// logged while no issuer is configured (upstream: 5 s).
  std::chrono::milliseconds waiting_log_interval{std::chrono::seconds{5}};
  /// Whether a change of the active issuer (a runtime ConfigMap) re-issues
  /// the serving certificate at once when it came from another issuer
  /// (ours; upstream waits for the next renewal, and without a root file
  /// workload chains of an issuer with another root fail verification
  /// until then).
  bool reissue_on_issuer_change = true;
};

/// Receives each new serving certificate: the chain (leaf first, as the
/// issuer returned it), its key and the current roots (for client
/// certificates). Runs on the cert-obtainer's thread under the root store's
/// lock (so roots never go backwards), must not block. In the agent:
/// `grpc_bridge::server::set_credentials`.
using credentials_sink = std::function<caf::error(
  std::vector<pki::certificate> chain, pki::private_key key,
  std::vector<pki::certificate> roots)>;

/// What the cert-obtainer talks to.
struct obtainer_deps {
  kube::client_actor kube;
  cr_watcher_actor watcher;
  std::shared_ptr<active_issuer> issuer;
  std::shared_ptr<root_store> roots;
  credentials_sink sink;
};

/// Where the cert-obtainer stands, for tests and diagnostics.
struct obtainer_status {
  /// Attempts started, certificates delivered, attempts failed.
  uint64_t attempts = 0;
  uint64_t obtained = 0;
  uint64_t failures = 0;
  bool waiting_for_issuer = false;
  /// The held certificate's notAfter and the planned renewal (epoch when
  /// none).
  std::chrono::system_clock::time_point not_after;
  std::chrono::system_clock::time_point renew_at;
  std::string last_error;
};

/// Spawns the cert-obtainer (on its own thread: key generation is CPU
/// work). It waits for an issuer, then obtains the serving certificate
/// through a CertificateRequest (usage `server auth`, identities
/// `istio-csr-serving`) and the shared cr-watcher: a new key in memory per
/// attempt, per-attempt timeouts, exponential backoff with jitter; renewal
/// at 2/3 of the remaining lifetime (as upstream). Without a root file, the
/// roots of the answer's `status.ca` go to the root store ("root CA
/// certificate is not defined" when empty).
///
/// `(stats_atom) -> obtainer_status`.
caf::actor spawn_cert_obtainer(caf::actor_system& sys, obtainer_options opts,
                               obtainer_deps deps);

} // namespace istio_csr::actors::signing

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(istio_csr::actors::signing::obtainer_status)
