#include "actors/signing/csr_signer.hpp"

#include <algorithm>
#include <optional>
#include <type_traits>
#include <unordered_map>
#include <variant>

#include "caf/actor_clock.hpp"
#include "caf/actor_system.hpp"
#include "caf/exit_reason.hpp"
#include "caf/send.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/system_messages.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/ambient/errors.hpp"
#include "actors/ambient/messages.hpp"
#include "actors/signing/active_issuer.hpp"
#include "actors/signing/citadel_outcome.hpp"
#include "actors/signing/errors.hpp"
#include "actors/signing/messages.hpp"
#include "actors/signing/policy/csr_policy.hpp"
#include "actors/signing/policy/duration.hpp"
#include "actors/signing/policy/kube_jwt.hpp"
#include "actors/signing/root_store.hpp"
#include "actors/supervisor/errors.hpp"
#include "errors/describe.hpp"
#include "introspection/protocol.hpp"
#include "kube/api/errc.hpp"
#include "kube/api/object.hpp"
#include "kube/api/token_review.hpp"
#include "kube/client/cancel_scope.hpp"
#include "kube/client/resource.hpp"
#include "logging/logging.hpp"
#include "metrics/handles.hpp"
#include "metrics/istio_csr.hpp"
#include "pki/certificate.hpp"
#include "pki/error.hpp"
#include "signing_api/sign_errc.hpp"

namespace istio_csr::actors::signing {

namespace {

using policy::caller_identity;
using signing_api::sign_errc;

constexpr std::string_view timeout_failure
  = "timed out waiting for the certificate request to be signed";

/// One signing request in progress.
struct pending_request {
  request_ref req;
  caf::typed_response_promise<void> rp;
  std::vector<std::string> identities;
  /// The CSR as checked, once the policy approved it.
  std::optional<policy::approved_csr> approved;
  /// Held from just before the create until the request ends.
  slot cr_slot;
  /// The CertificateRequest, once created.
  std::string cr_name;
  /// Registered with the cr-watcher and not answered yet.
  bool waiting = false;
  /// From the create's answer until the object is final or the request
  /// ends: a unit of `istio_csr_certificate_requests_waiting`.
  metrics::gauge_hold waiting_gauge;
  /// When the create answered (actor clock): the issuer wait starts.
  caf::actor_clock::time_point created_at;
  /// The CertificateRequest as sent (a fixed name): repeated as is after an
  /// ambiguous failure, and compared with what a 409 finds.
  nlohmann::json cr_body;
  /// Kubernetes calls sent for this request, by step: a kube-client that
  /// restarted while handling one is asked again, up to
  /// `max_kube_attempts` times.
  int review_attempts = 0;
  int create_attempts = 0;
};

/// Attempts per Kubernetes step of a request when the kube-client restarts
/// under it (a crash, chaos mode): each restart answers the calls it was
/// handling `child_restarted`, and the restarted client is asked again.
/// More than the supervisor's restart intensity (5 failures a minute): only
/// a kube-client that its supervisor gives up on exhausts them.
constexpr int max_kube_attempts = 6;

/// Whether `err` says the kube-client restarted while handling the call
/// (so the call may or may not have reached the API server).
bool kube_restarted(const caf::error& err) {
  return err == make_error(supervisor_errc::child_restarted);
}

struct signer_state {
  std::shared_ptr<const signer_options> opts;
  signer_deps deps;
  std::shared_ptr<spdlog::logger> log;
  uint64_t next_id = 1;
  std::unordered_map<uint64_t, pending_request> requests;
  uint64_t finished = 0;
  /// Overload refusals since the last warning, and when that was.
  uint64_t overloaded = 0;
  caf::actor_clock::time_point overload_warned;
  /// TokenReviews and creates: not sent once the signer stops or dies.
  kube::cancel_scope kube_calls;
  /// CertificateRequest creates and deletes not answered yet: an orderly
  /// stop waits for them, so that nothing it created outlives it.
  size_t cr_writes = 0;
  /// Stopping in order (`exit_reason::user_shutdown`): `stop_reason` once
  /// `cr_writes` is zero.
  bool stopping = false;
  caf::error stop_reason;

  static inline const char* name = "csr-signer";
};

/// The signer with its internal messages: a request's deadline passed, its
/// caller cancelled.
using signer_impl_actor
  = signer_actor::extend<caf::reacts_to<sign_timeout_atom, uint64_t>,
                         caf::reacts_to<sign_cancel_atom, uint64_t>>;

using signer_pointer = signer_impl_actor::stateful_pointer<signer_state>;

std::string join(const std::vector<std::string>& xs) {
  std::string result;
  for (auto& x : xs) {
    if (!result.empty())
      result += ',';
    result += x;
  }
  return result;
}

pending_request* find(signer_pointer self, uint64_t id) {
  auto i = self->state.requests.find(id);
  return i != self->state.requests.end() ? &i->second : nullptr;
}

/// One CertificateRequest create or delete answered: an orderly stop ends
/// with the last one.
void cr_write_done(signer_pointer self) {
  auto& st = self->state;
  --st.cr_writes;
  if (st.stopping && st.cr_writes == 0)
    self->quit(st.stop_reason);
}

/// Deletes the CertificateRequest `name` in the background (not bound to
/// the request, nor cancelled with the signer), unless preserve (`force`
/// deletes anyway).
void delete_object(signer_pointer self, const std::string& name,
                   bool force = false, int attempt = 1) {
  auto& st = self->state;
  if ((st.opts->cr.preserve && !force) || name.empty())
    return;
  auto log = st.log;
  auto ns = st.opts->cr.namespace_;
  ++st.cr_writes;
  self->request(st.deps.kube, caf::infinite, delete_cr(ns, name))
    .then(
      [self, log, ns, name](kube::response&) {
        logging::debug(*log, "deleted CertificateRequest",
                       {{"namespace", ns}, {"name", name}});
        cr_write_done(self);
      },
      [self, log, ns, name, force, attempt](caf::error& err) {
        if (kube_restarted(err) && attempt < max_kube_attempts
            && !self->state.stopping) {
          delete_object(self, name, force, attempt + 1);
          cr_write_done(self);
          return;
        }
        if (!kube::is(err, kube::errc::not_found))
          logging::error(*log, "failed to delete CertificateRequest",
                         {{"namespace", ns},
                          {"name", name},
                          {"err", errors::describe(err)}});
        cr_write_done(self);
      });
}

/// Ends request `id` with `result`, withdraws its wait, deletes its
/// CertificateRequest (even with preserve when `force_delete`) and answers
/// the dispatcher.
void end_request(signer_pointer self, uint64_t id,
                 signing_api::sign_result result, bool force_delete = false) {
  auto& st = self->state;
  auto i = st.requests.find(id);
  if (i == st.requests.end())
    return;
  auto pr = std::move(i->second);
  st.requests.erase(i);
  ++st.finished;
  pr.req->reply().finish(std::move(result));
  if (!pr.cr_name.empty()) {
    if (pr.waiting)
      self->send(st.deps.watcher, cr_unwait_atom::value, pr.cr_name);
    delete_object(self, pr.cr_name, force_delete);
  }
  static_cast<caf::response_promise&>(pr.rp).deliver(caf::unit);
}

/// Ends request `id` with the domain error `code`.
void fail(signer_pointer self, uint64_t id, sign_errc code,
          bool force_delete = false) {
  end_request(self, id, signing_api::make_error(code), force_delete);
}

/// Authentication or authorization failed: details go to the log only.
void refuse(signer_pointer self, uint64_t id, std::string_view reason,
            const std::vector<std::string>& identities = {},
            refusal kind = refusal::authentication) {
  auto& st = self->state;
  auto* pr = find(self, id);
  if (pr == nullptr)
    return;
  if (!pr->req->reply().finished())
    count_refusal(kind);
  logging::error(*st.log, "failed to authenticate request",
                 {{"reason", std::string{reason}},
                  {"identities", join(identities)},
                  {"peer", pr->req->request().caller.peer}});
  fail(self, id, sign_errc::unauthenticated);
}

void fail_signing(signer_pointer self, uint64_t id, std::string_view reason) {
  auto& st = self->state;
  auto* pr = find(self, id);
  if (pr == nullptr)
    return;
  logging::error(*st.log, "failed to sign certificate request",
                 {{"reason", std::string{reason}},
                  {"identities", join(pr->identities)},
                  {"certificaterequest", pr->cr_name}});
  fail(self, id, sign_errc::signing_failed);
}

void wait_for(signer_pointer self, uint64_t id);

/// The CertificateRequest reached a final state.
void on_final(signer_pointer self, uint64_t id, const finished_request& cr) {
  auto& st = self->state;
  auto* pr = find(self, id);
  if (pr == nullptr)
    return;
  pr->waiting = false;
  if (cr.outcome != cr_outcome::pending) {
    metrics::ours().issuer_wait.observe(
      std::chrono::duration<double>(self->clock().now() - pr->created_at)
        .count());
    pr->waiting_gauge.release();
  }
  switch (cr.outcome) {
    case cr_outcome::denied:
      fail_signing(self, id,
                   "created CertificateRequest has been denied: "
                     + cr.conditions);
      return;
    case cr_outcome::failed:
      fail_signing(self, id,
                   "created CertificateRequest has failed: " + cr.conditions);
      return;
    case cr_outcome::pending:
      fail_signing(self, id, "CertificateRequest is not final");
      return;
    case cr_outcome::issued: break;
  }
  auto roots = st.deps.roots->current();
  std::string reason;
  if (!cr.certificate) {
    reason = "status.certificate is not valid base64";
  } else if (!roots) {
    reason = "root CAs are not available";
  } else {
    std::optional<pki::certificate> leaf;
    auto chain = policy::build_response_chain(*cr.certificate, *roots, &leaf);
    if (chain) {
      // The issuer must have signed what we checked (docs/security.md).
      if (auto mismatch = policy::check_issued_leaf(*leaf, *pr->approved)) {
        logging::error(*st.log,
                       "refusing a certificate the issuer signed for "
                       "something else than the approved request",
                       {{"reason", *mismatch},
                        {"identities", join(pr->identities)},
                        {"certificaterequest", pr->cr_name}});
        fail(self, id, sign_errc::verification_failed, true);
        return;
      }
      logging::debug(*st.log, "signed CertificateRequest",
                     {{"identities", join(pr->identities)},
                      {"certificaterequest", pr->cr_name}});
      end_request(self, id, std::move(*chain));
      return;
    }
    reason = errors::message(chain.error());
  }
  logging::error(*st.log,
                 "failed to parse and verify signed certificate from issuer",
                 {{"reason", reason},
                  {"identities", join(pr->identities)},
                  {"certificaterequest", pr->cr_name}});
  fail(self, id, sign_errc::verification_failed);
}

/// Registers the wait for request `id`'s CertificateRequest with the
/// watcher.
void wait_for(signer_pointer self, uint64_t id) {
  auto& st = self->state;
  auto* pr = find(self, id);
  if (pr == nullptr)
    return;
  pr->waiting = true;
  logging::trace(
    *st.log, "waiting for CertificateRequest",
    {{"namespace", st.opts->cr.namespace_}, {"name", pr->cr_name}});
  auto name = pr->cr_name;
  self
    ->request(st.deps.watcher, caf::infinite, cr_wait_atom::value, name,
              caf::actor_cast<caf::actor>(self))
    .then([self, id](finished_request& cr) { on_final(self, id, cr); },
          [self, id, name](caf::error& err) {
            auto* pr = find(self, id);
            if (pr == nullptr || pr->cr_name != name)
              return; // the request ended; its wait was withdrawn
            if (err.category() == signing_error_category) {
              pr->waiting = false;
              fail_signing(self, id,
                           "created CertificateRequest has been "
                           "unexpectedly deleted");
              return;
            }
            if (err == make_error(supervisor_errc::child_restarted)) {
              // The watcher restarted and forgot the wait: register again
              // (its new informer lists the object afresh).
              wait_for(self, id);
              return;
            }
            logging::error(*self->state.log,
                           "waiting for CertificateRequest failed",
                           {{"name", name}, {"err", errors::describe(err)}});
            fail(self, id, sign_errc::signer_unavailable);
          });
}

/// Takes a slot for one more waiting CertificateRequest; false (and the
/// request answered `issuer_overloaded`) when there is none.
bool take_cr_slot(signer_pointer self, uint64_t id, pending_request& pr) {
  auto& st = self->state;
  if (!st.deps.pending_crs)
    return true;
  auto taken = st.deps.pending_crs->try_acquire();
  if (taken) {
    pr.cr_slot = std::move(*taken);
    return true;
  }
  // At most one warning per 10 s: an overload must not become a log storm.
  ++st.overloaded;
  auto now = self->clock().now();
  if (now - st.overload_warned >= std::chrono::seconds{10}) {
    logging::warn(*st.log,
                  "too many CertificateRequests waiting for the issuer, "
                  "asking callers to retry",
                  {{"limit", std::to_string(st.deps.pending_crs->limit())},
                   {"refused", std::to_string(st.overloaded)}});
    st.overloaded = 0;
    st.overload_warned = now;
  }
  fail(self, id, sign_errc::issuer_overloaded);
  return false;
}

/// The CertificateRequest `obj` of request `id` exists (created, or found
/// after a 409 to be the one we sent): wait for the issuer.
void created(signer_pointer self, uint64_t id, const nlohmann::json& obj) {
  auto& st = self->state;
  auto name = kube::object_ref{obj}.name();
  auto* pr = find(self, id);
  if (pr == nullptr) {
    // The request ended while the create was on its way.
    delete_object(self, name);
    return;
  }
  pr->cr_name = name;
  pr->created_at = self->clock().now();
  pr->waiting_gauge
    = metrics::gauge_hold{metrics::ours().certificate_requests_waiting};
  logging::debug(*st.log, "created CertificateRequest",
                 {{"namespace", st.opts->cr.namespace_},
                  {"name", name},
                  {"identities", join(pr->identities)}});
  // The create answer may already be final (an issuer faster than our
  // request): the watcher's cache covers that too.
  wait_for(self, id);
}

void send_create(signer_pointer self, uint64_t id);

/// The create of request `id` answered 409: read the object back; ours
/// (a repeated create whose first attempt got through) or a stranger that
/// took the name (then a new name).
void read_back(signer_pointer self, uint64_t id) {
  auto& st = self->state;
  auto* pr = find(self, id);
  if (pr == nullptr)
    return;
  auto name = kube::object_ref{pr->cr_body}.name();
  ++st.cr_writes;
  self
    ->request(
      st.deps.kube, caf::infinite,
      st.kube_calls.bind(kube::request::get(
        kube::resources::certificaterequests, st.opts->cr.namespace_, name)))
    .then(
      [self, id, sent = pr->cr_body](kube::response& existing) {
        auto* pr = find(self, id);
        if (is_same_request(sent, existing.body())) {
          created(self, id, existing.body());
        } else if (pr != nullptr) {
          // Not ours: never adopt what we did not write. A new name.
          logging::warn(*self->state.log,
                        "a CertificateRequest of another writer has our "
                        "name, creating with a new one",
                        {{"name", kube::object_ref{existing.body()}.name()}});
          pr->cr_body["metadata"]["name"] = new_cr_name();
          send_create(self, id);
        }
        cr_write_done(self);
      },
      [self, id, name](caf::error& err) {
        auto* pr = find(self, id);
        if (pr != nullptr && kube_restarted(err)
            && pr->create_attempts < max_kube_attempts
            && !self->state.stopping) {
          ++pr->create_attempts;
          read_back(self, id);
        } else {
          // When the request ended meanwhile, the object (if ours) is
          // left to the orphan sweep: we cannot tell it from a stranger's.
          fail_signing(self, id,
                       "failed to read back CertificateRequest " + name + ": "
                         + errors::describe(err));
        }
        cr_write_done(self);
      });
}

/// Sends request `id`'s CertificateRequest (`cr_body`, a fixed name): the
/// kube client repeats it after 5xx or a lost connection, and so do we
/// after a kube-client restart; a 409 is read back (`read_back`).
void send_create(signer_pointer self, uint64_t id) {
  auto& st = self->state;
  auto* pr = find(self, id);
  if (pr == nullptr)
    return;
  ++pr->create_attempts;
  auto req = kube::request::create(kube::resources::certificaterequests,
                                   st.opts->cr.namespace_, pr->cr_body);
  req.repeatable_create = true;
  auto name = kube::object_ref{pr->cr_body}.name();
  ++st.cr_writes;
  self->request(st.deps.kube, caf::infinite, st.kube_calls.bind(std::move(req)))
    .then(
      [self, id](kube::response& answer) {
        created(self, id, answer.body());
        cr_write_done(self);
      },
      [self, id, name](caf::error& err) {
        auto* pr = find(self, id);
        if (pr == nullptr) {
          // The request ended meanwhile; the create may have got through
          // (not when it was never sent, or the name was taken).
          if (!kube::is(err, kube::errc::already_exists)
              && !kube::is(err, kube::errc::cancelled))
            delete_object(self, name);
        } else if (kube::is(err, kube::errc::already_exists)
                   && pr->create_attempts <= max_kube_attempts
                   && !self->state.stopping) {
          read_back(self, id);
        } else if (kube_restarted(err)
                   && pr->create_attempts < max_kube_attempts
                   && !self->state.stopping) {
          send_create(self, id);
        } else {
          fail_signing(self, id,
                       "failed to create CertificateRequest: "
                         + errors::describe(err));
        }
        cr_write_done(self);
      });
}

void create_request(signer_pointer self, uint64_t id,
                    std::chrono::seconds duration) {
  auto& st = self->state;
  auto* pr = find(self, id);
  if (pr == nullptr)
    return;
  auto issuer = st.deps.issuer->get();
  if (!issuer) {
    fail_signing(self, id, "no active issuerRef is configured for istio-csr");
    return;
  }
  if (!take_cr_slot(self, id, *pr))
    return;
  cr_request req;
  req.name = new_cr_name();
  req.identities = join(pr->identities);
  // Never the caller's text: the PEM of exactly the DER we checked.
  req.csr_pem = pr->approved->pem();
  req.duration = duration;
  req.usages = {"client auth", "server auth"};
  req.issuer = *issuer;
  pr->cr_body = make_cr(st.opts->cr, req);
  send_create(self, id);
}

/// The caller may have `identities`: CSR policy (the URI SANs must be
/// exactly those), the duration clamp, then the request.
void check_csr(signer_pointer self, uint64_t id,
               std::vector<std::string> identities,
               const std::vector<std::string>& callers) {
  auto& st = self->state;
  auto* pr = find(self, id);
  if (pr == nullptr)
    return;
  const auto& req = pr->req->request();
  auto decision = policy::authorize_csr(req.csr_pem, identities);
  if (auto* rejection = std::get_if<policy::csr_rejection>(&decision)) {
    refuse(self, id,
           std::string{policy::to_string(rejection->reason)} + ": "
             + rejection->detail,
           callers,
           rejection->reason == policy::csr_reason::malformed
             ? refusal::csr_parsing
             : refusal::authentication);
    return;
  }
  pr->approved = std::move(std::get<policy::approved_csr>(decision));
  pr->identities = std::move(identities);
  auto duration
    = policy::certificate_duration(req.validity_seconds, st.opts->max_duration);
  create_request(self, id, duration);
}

/// Ambient: `who` (a ztunnel) asks for `target`. The pod index decides
/// (actors/ambient/node_authorizer.hpp); then the CSR must carry exactly
/// `target`, and the CertificateRequest is annotated with it.
void impersonate(signer_pointer self, uint64_t id, caller_identity who,
                 std::string target) {
  auto& st = self->state;
  if (find(self, id) == nullptr)
    return;
  if (!st.deps.pod_index) {
    logging::warn(*st.log,
                  "impersonation not allowed, as node authorizer "
                  "(CA_TRUSTED_NODE_ACCOUNTS, --ca-trusted-node-accounts) is "
                  "not configured",
                  {{"impersonated", target}});
    refuse(self, id, "impersonation not allowed: no node authorizer",
           who.identities);
    return;
  }
  // A client-certificate caller has no pod: the node authorizer refuses
  // it as untrusted (upstream: the same).
  ambient::impersonation_request req{
    {who.pod_name, who.ns, who.pod_uid, who.service_account}, target};
  self
    ->request(st.deps.pod_index, caf::infinite, ambient::authorize_atom::value,
              std::move(req))
    .then([self, id, who,
           target]() { check_csr(self, id, {target}, who.identities); },
          [self, id, who, target](caf::error& err) mutable {
            if (find(self, id) == nullptr)
              return; // the request ended meanwhile
            if (err == make_error(supervisor_errc::child_restarted)) {
              // The pod index restarted with our request: ask the new one.
              impersonate(self, id, std::move(who), std::move(target));
              return;
            }
            auto code = ambient::ambient_errc_of(err);
            if (code == ambient::ambient_errc::denied) {
              refuse(self, id,
                     "impersonation failed for identity " + target + ": "
                       + errors::message(err),
                     who.identities);
              return;
            }
            if (code == ambient::ambient_errc::not_synced) {
              logging::warn(*self->state.log,
                            "impersonation not checked: the pod cache has not "
                            "synced",
                            {{"impersonated", target}});
              fail(self, id, sign_errc::pod_cache_not_synced);
              return;
            }
            // The pod index is stopping or gone (shutdown): retriable for
            // ztunnel, never a refusal.
            logging::warn(
              *self->state.log,
              "impersonation not checked: the pod index is "
              "unavailable",
              {{"impersonated", target}, {"err", errors::describe(err)}});
            fail(self, id, sign_errc::pod_cache_unavailable);
          });
}

/// Authentication succeeded: authorization, CSR policy, then the request.
void authorized(signer_pointer self, uint64_t id, caller_identity who) {
  auto* pr = find(self, id);
  if (pr == nullptr)
    return;
  if (who.identities.empty()) {
    refuse(self, id, "caller has no identities", {}, refusal::id_extraction);
    return;
  }
  if (auto target = pr->req->request().impersonated_identity; !target.empty()) {
    impersonate(self, id, std::move(who), std::move(target));
    return;
  }
  auto identities = who.identities;
  check_csr(self, id, std::move(identities), who.identities);
}

/// Step 1: cluster id and authentication.
void authenticate(signer_pointer self, uint64_t id) {
  auto& st = self->state;
  auto* pr = find(self, id);
  if (pr == nullptr)
    return;
  const auto& caller = pr->req->request().caller;
  // The client-certificate authenticator comes first when enabled.
  if (st.opts->client_cert_authenticator && caller.client_cert) {
    auto ids = caller.client_cert->identities();
    if (!ids.empty()) {
      caller_identity who;
      who.identities = std::move(ids);
      authorized(self, id, std::move(who));
      return;
    }
  }
  // Kube JWT: cluster id, a printable bearer token, before any API call.
  auto checked = policy::kube_jwt_token(caller, st.opts->cluster_id);
  if (!checked) {
    refuse(self, id, errors::message(checked.error()));
    return;
  }
  auto token = *checked;
  // A successful review of the same token and audiences, still live, is
  // reused (actors/signing/token_review_cache.hpp; the key is a hash).
  std::string cache_key;
  if (auto& cache = st.deps.token_reviews) {
    cache_key = token_review_cache::key_of(token, st.opts->token_audiences);
    if (auto status = cache->find(cache_key, self->clock().now())) {
      auto who = policy::review_identity(st.opts->trust_domain,
                                         nlohmann::json{{"status", *status}});
      if (who) {
        logging::debug(*st.log, "TokenReview answered from the cache",
                       {{"identities", join(who->identities)}});
        authorized(self, id, std::move(*who));
        return;
      }
      // Not expected (only successes go in): ask the API server.
    }
  }
  ++pr->review_attempts;
  auto review = kube::make_token_review(token, st.opts->token_audiences);
  auto started = self->clock().now();
  auto observe = [self, started] {
    metrics::ours().token_review.observe(
      std::chrono::duration<double>(self->clock().now() - started).count());
  };
  self
    ->request(st.deps.kube, caf::infinite,
              st.kube_calls.bind(kube::request::create(
                kube::resources::tokenreviews, "", std::move(review))))
    .then(
      [self, id, observe, cache_key, started](kube::response& answer) {
        observe();
        auto who = policy::review_identity(self->state.opts->trust_domain,
                                           answer.body());
        if (!who) {
          refuse(self, id, errors::message(who.error()));
          return;
        }
        // Only the status (user, groups, extra) is kept, never the spec
        // (the API server echoes the token there). Failures never get here.
        // The lifetime counts from when the review was asked: the answer
        // is as old as that.
        auto& cache = self->state.deps.token_reviews;
        auto* pr = find(self, id);
        if (cache && pr != nullptr && answer.body().contains("status"))
          cache->insert(cache_key, *pr->req->request().caller.bearer_token,
                        answer.body().at("status"), started);
        authorized(self, id, std::move(*who));
      },
      [self, id, observe](caf::error& err) {
        observe();
        auto* pr = find(self, id);
        if (pr != nullptr && kube_restarted(err)) {
          if (pr->review_attempts < max_kube_attempts
              && !self->state.stopping) {
            authenticate(self, id);
            return;
          }
          // Never asked, so never refused: retriable for the caller.
          logging::error(*self->state.log,
                         "TokenReview lost with the kube client, giving up",
                         {{"attempts", std::to_string(pr->review_attempts)},
                          {"err", errors::describe(err)}});
          fail(self, id, sign_errc::signer_unavailable);
          return;
        }
        refuse(self, id,
               "failed to validate the JWT from cluster: "
                 + errors::describe(err));
      });
}

/// An orderly stop: nothing more is sent for the requests in progress,
/// which end `signer_unavailable` (retried by istio-agent) and delete their
/// CertificateRequests; the signer terminates once its creates and deletes
/// are answered (its supervisor kills it after its shutdown timeout).
void stop(signer_pointer self, caf::error reason) {
  auto& st = self->state;
  if (st.stopping)
    return;
  st.stopping = true;
  st.stop_reason = std::move(reason);
  st.kube_calls.cancel();
  std::vector<uint64_t> ids;
  for (auto& [id, pr] : st.requests)
    ids.push_back(id);
  for (auto id : ids)
    fail(self, id, sign_errc::signer_unavailable);
  if (st.cr_writes == 0)
    self->quit(st.stop_reason);
}

signer_impl_actor::behavior_type
signer_impl(signer_pointer self, std::shared_ptr<const signer_options> opts,
            signer_deps deps) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.deps = std::move(deps);
  introspection::enable(self, [self] {
    auto& st = self->state;
    return introspection::report{std::to_string(st.requests.size())
                                 + " in flight, " + std::to_string(st.finished)
                                 + " finished"};
  });
  st.log = logging::get("grpc-server");
  self->set_exit_handler([self](caf::exit_msg& msg) {
    // As CAF's default, a normal exit message is no request to stop
    // (`exit_reason::kill` never gets here).
    if (msg.reason && msg.reason != caf::exit_reason::normal)
      stop(self, std::move(msg.reason));
  });
  return {
    [self](sign_atom, request_ref& req) -> caf::result<void> {
      auto& st = self->state;
      auto rp = self->make_response_promise<void>();
      if (!req || req->reply().finished()) {
        static_cast<caf::response_promise&>(rp).deliver(caf::unit);
        return rp;
      }
      if (st.stopping) {
        req->reply().finish(
          signing_api::make_error(sign_errc::signer_unavailable));
        static_cast<caf::response_promise&>(rp).deliver(caf::unit);
        return rp;
      }
      auto id = st.next_id++;
      const auto& request = req->request();
      auto reply = request.reply;
      pending_request pr;
      pr.req = req;
      pr.rp = rp;
      st.requests.emplace(id, std::move(pr));
      // The deadline: ours, never beyond the caller's. Measured on the
      // actor clock (steady_clock in production, virtual time under CAF's
      // test coordinator), which also times the delayed message.
      using clock = caf::actor_clock::clock_type;
      static_assert(
        std::is_same_v<clock::time_point, decltype(request.deadline)>);
      auto now = self->clock().now();
      auto deadline = request.deadline;
      if (st.opts->request_timeout > std::chrono::nanoseconds::zero()) {
        auto ours = now
                    + std::chrono::duration_cast<clock::duration>(
                      st.opts->request_timeout);
        deadline = std::min(deadline, ours);
      }
      if (deadline != clock::time_point::max()) {
        auto delay = std::max(deadline - now, clock::duration::zero());
        self->delayed_send(self, delay, sign_timeout_atom::value, id);
      }
      // Runs on a transport thread (or here, if already cancelled).
      reply->on_cancel([addr = self->address(), id] {
        if (auto hdl = caf::actor_cast<signer_impl_actor>(addr))
          caf::anon_send(hdl, sign_cancel_atom::value, id);
      });
      // An oversized CSR is refused before it costs a TokenReview.
      if (request.csr_pem.size() > policy::max_csr_pem_bytes) {
        refuse(self, id,
               "malformed: the CSR PEM has "
                 + std::to_string(request.csr_pem.size()) + " bytes, more than "
                 + std::to_string(policy::max_csr_pem_bytes),
               {}, refusal::csr_parsing);
        return rp;
      }
      authenticate(self, id);
      return rp;
    },
    [self](sign_timeout_atom, uint64_t id) {
      auto* pr = find(self, id);
      if (pr == nullptr)
        return;
      logging::warn(*self->state.log, timeout_failure,
                    {{"identities", join(pr->identities)},
                     {"certificaterequest", pr->cr_name}});
      fail(self, id, sign_errc::timed_out);
    },
    [self](sign_cancel_atom, uint64_t id) {
      auto* pr = find(self, id);
      if (pr == nullptr)
        return;
      logging::debug(*self->state.log, "call cancelled by the client",
                     {{"identities", join(pr->identities)},
                      {"certificaterequest", pr->cr_name}});
      fail(self, id, sign_errc::cancelled);
    },
    [self](stats_atom) -> signer_stats {
      return signer_stats{self->state.requests.size(), self->state.finished};
    },
  };
}

} // namespace

signer_actor spawn_csr_signer(caf::actor_system& sys,
                              std::shared_ptr<const signer_options> opts,
                              signer_deps deps) {
  return sys.spawn(signer_impl, std::move(opts), std::move(deps));
}

} // namespace istio_csr::actors::signing
