#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/ambient/pod_index_actor.hpp"
#include "actors/signing/cert_obtainer.hpp"
#include "actors/signing/cr_watcher.hpp"
#include "actors/signing/csr_signer.hpp"
#include "actors/signing/root_ca.hpp"
#include "actors/signing/slot_pool.hpp"
#include "actors/signing/token_review_cache.hpp"
#include "actors/supervisor/child_spec.hpp"

namespace istio_csr::config {
struct options;
} // namespace istio_csr::config

namespace istio_csr::kube {
class client;
} // namespace istio_csr::kube

namespace istio_csr::actors::signing {

/// Names of the signing-path children (docs/architecture.md).
namespace names {

inline constexpr const char* kube_client = "kube-client";
inline constexpr const char* root_ca = "root-ca";
inline constexpr const char* cr_watcher = "cr-watcher";
inline constexpr const char* pod_index = "pod-index";
inline constexpr const char* dispatcher = "csr-dispatcher";
inline constexpr const char* cert_obtainer = "cert-obtainer";

/// "csr-signer-<i>".
std::string signer(std::size_t i);

} // namespace names

/// The signer pool size: the hardware concurrency, at least 2.
std::size_t default_signer_count();

/// Everything the signing path needs: settings (from `config::options`)
/// and the shared objects it works with.
struct signing_setup {
  std::shared_ptr<kube::client> client;
  std::shared_ptr<active_issuer> issuer;
  std::shared_ptr<root_store> roots;
  /// Where serving certificates go (`grpc_bridge::server::set_credentials`).
  credentials_sink sink;
  signer_options signer;
  watcher_options watcher;
  obtainer_options obtainer;
  root_ca_options root_ca;
  /// Ambient node authorization: the `pod-index` child runs only when this
  /// is set (`settings_from`: when `--ca-trusted-node-accounts` names at
  /// least one valid `namespace/serviceaccount`).
  std::optional<ambient::pod_index_options> pod_index;
  /// The pod index's readiness (synced) flag, set with `pod_index`.
  std::shared_ptr<ambient::pod_index_status> pod_index_status;
  /// CertificateRequests waiting for the issuer, across all signers
  /// (`--max-pending-certificate-requests`); null: unbounded.
  std::shared_ptr<slot_pool> pending_crs;
  /// Successful TokenReviews, across all signers and their restarts
  /// (`--token-review-cache-ttl`); null when it is 0 (disabled).
  std::shared_ptr<token_review_cache> token_reviews;
  std::size_t signers = default_signer_count();
  /// Whether to run the cert-obtainer (tests of the signers alone may
  /// leave it out).
  bool with_cert_obtainer = true;
};

/// The settings of every signing-path actor from the command line. The
/// shared objects (`client`, `issuer`, `roots`, `sink`) are left to the
/// caller.
signing_setup settings_from(const config::options& opts);

/// The child specs of the signing path, in start order: kube-client,
/// root-ca, cr-watcher, pod-index (only with `setup.pod_index`),
/// csr-signer-0..N-1, csr-dispatcher, cert-obtainer.
/// Every child is permanent; siblings reach each other through stable
/// handles. The gRPC bridge's `dispatch_handler` gets the stable handle of
/// `names::dispatcher`.
std::vector<child_spec> signing_children(const signing_setup& setup);

} // namespace istio_csr::actors::signing
