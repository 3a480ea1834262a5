#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "caf/actor.hpp"
#include "caf/allowed_unsafe_message_type.hpp"
#include "caf/fwd.hpp"
#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include "actors/ambient/pod_index_actor.hpp"
#include "actors/signing/certificate_requests.hpp"
#include "actors/signing/cr_watcher.hpp"
#include "actors/signing/messages.hpp"
#include "actors/signing/slot_pool.hpp"
#include "actors/signing/token_review_cache.hpp"
#include "kube/client/client_actor.hpp"

namespace istio_csr::actors::signing {

class active_issuer;
class root_store;

/// What a signer checks and creates (from `config::options`).
struct signer_options {
  cr_settings cr;
  /// `--cluster-id`: the only `clusterid` metadata value accepted (besides
  /// none).
  std::string cluster_id = "Kubernetes";
  /// `--trust-domain`: caller identities are
  /// `spiffe://<td with @→.>/ns/<ns>/sa/<sa>`.
  std::string trust_domain = "cluster.local";
  /// `--enable-client-cert-authenticator`.
  bool client_cert_authenticator = false;
  /// `TOKEN_AUDIENCES`: the audiences of every TokenReview.
  std::vector<std::string> token_audiences{"istio-ca"};
  /// `--ca-trusted-node-accounts` as given (Ambient impersonation; the
  /// pod-index child, `signer_deps::pod_index`, does the checking).
  std::vector<std::string> trusted_node_accounts;
  /// `--max-client-certificate-duration`.
  std::chrono::seconds max_duration{std::chrono::hours{1}};
  /// `--certificate-request-timeout`: the server-side deadline of one call
  /// (never beyond the caller's own deadline); zero: none.
  std::chrono::nanoseconds request_timeout{std::chrono::seconds{30}};
};

/// What a signer talks to.
struct signer_deps {
  /// The kube client façade (`kube::spawn_client_actor`), a stable handle.
  kube::client_actor kube;
  /// The cr-watcher, a stable handle.
  cr_watcher_actor watcher;
  std::shared_ptr<active_issuer> issuer;
  std::shared_ptr<root_store> roots;
  /// The pod index (actors/ambient), a stable handle; invalid when no
  /// trusted node accounts are configured (every impersonation is then
  /// refused).
  ambient::pod_index_actor pod_index;
  /// CertificateRequests waiting for the issuer, shared by all signers; a
  /// call that finds none free is answered `UNAVAILABLE` before it creates
  /// one. Null: unbounded.
  std::shared_ptr<slot_pool> pending_crs;
  /// Successful TokenReviews, shared by all signers
  /// (`--token-review-cache-ttl`). Null: every call makes a review.
  std::shared_ptr<token_review_cache> token_reviews;
};

/// Counters of one signer incarnation, for tests and diagnostics.
struct signer_stats {
  /// Requests in progress.
  std::size_t active = 0;
  /// Requests finished by this incarnation.
  uint64_t finished = 0;
};

/// One csr-signer. It handles many signing requests at once, each a small
/// state machine in a map, without ever blocking:
///
/// `(sign_atom, request_ref) -> void` (answered once the request is
/// finished):
/// 1. `clusterid` (docs/upstream.md §2.3) and authentication: the client
///    certificate (if enabled and presented; identities = all its SANs),
///    else the bearer token (printable ASCII) through a TokenReview, or the
///    status of a successful one for the same token and audiences from
///    `signer_deps::token_reviews` (checked again as a fresh answer);
/// 2. with an impersonated identity (ztunnel): node authorization by the
///    pod index (docs/upstream.md §2.4, `ambient::node_authorizer`), then
///    the CSR must carry exactly that identity, which the CertificateRequest
///    is annotated with;
/// 3. CSR policy (`policy::authorize_csr`) and the duration clamp; every
///    failure so far is `sign_errc::unauthenticated` (details in the log
///    only);
/// 4. a CertificateRequest (docs/upstream.md §3.1 plus our label) carrying
///    our PEM of the checked CSR, for the active issuer, then a wait on the
///    cr-watcher; no issuer, Denied, Failed or deleted:
///    `sign_errc::signing_failed`;
/// 5. the response chain built against the current roots (docs/upstream.md
///    §2.7), whose leaf must match the approved CSR, else
///    `sign_errc::verification_failed`;
/// 6. the CertificateRequest is deleted on every path after a successful
///    create (unless preserve).
/// The request's deadline (min of the caller's and `request_timeout`, on
/// the actor clock: `sign_request::deadline` is a steady_clock time point,
/// which is what the actor clock reads in production) answers
/// `sign_errc::timed_out`. A cancelled request stops waiting. Both
/// clean up.
///
/// `(stats_atom) -> signer_stats`.
///
/// A message of another shape does not compile, e.g.
/// `self->request(signer, infinite, sign_atom::value, std::string{"csr"})`
/// (`no matching function`: the interface takes a `request_ref`).
using signer_actor
  = caf::typed_actor<caf::replies_to<sign_atom, request_ref>::with<void>,
                     caf::replies_to<stats_atom>::with<signer_stats>>;

signer_actor spawn_csr_signer(caf::actor_system& sys,
                              std::shared_ptr<const signer_options> opts,
                              signer_deps deps);

} // namespace istio_csr::actors::signing

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(istio_csr::actors::signing::signer_stats)
