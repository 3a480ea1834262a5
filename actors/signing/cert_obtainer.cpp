#include "actors/signing/cert_obtainer.hpp"

#include <algorithm>
#include <random>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/send.hpp"
#include "caf/spawn_options.hpp"
#include "caf/stateful_actor.hpp"

#include "actors/signing/active_issuer.hpp"
#include "actors/signing/errors.hpp"
#include "actors/signing/messages.hpp"
#include "actors/signing/root_store.hpp"
#include "actors/supervisor/errors.hpp"
#include "errors/describe.hpp"
#include "introspection/protocol.hpp"
#include "kube/api/certificate_request.hpp"
#include "kube/api/errc.hpp"
#include "kube/api/object.hpp"
#include "kube/api/time.hpp"
#include "kube/client/cancel_scope.hpp"
#include "kube/client/resource.hpp"
#include "logging/logging.hpp"
#include "metrics/citadel.hpp"
#include "metrics/istio_csr.hpp"
#include "metrics/tls_provider.hpp"
#include "pki/csr.hpp"
#include "pki/error.hpp"
#include "pki/names.hpp"
#include "pki/pem.hpp"
#include "retry/backoff.hpp"

namespace istio_csr::actors::signing {

namespace {

/// The attempt in progress.
struct attempt_state {
  uint64_t token = 0;
  bool renewal = false;
  kube::issuer_ref issuer;
  std::optional<pki::private_key> key;
  std::string cr_name;
  bool waiting = false;
};

struct obtainer_state {
  obtainer_options opts;
  obtainer_deps deps;
  std::shared_ptr<spdlog::logger> log;
  std::mt19937_64 rng{std::random_device{}()};
  std::optional<kube::issuer_ref> issuer;
  bool have_certificate = false;
  /// The issuer of the held certificate.
  std::optional<kube::issuer_ref> issued_by;
  /// The attempt in flight, if any.
  std::optional<attempt_state> current;
  /// Creates: none is sent after the actor is gone (its deletes are).
  kube::cancel_scope kube_calls;
  /// Token of the scheduled attempt (retry or renewal); stale timers differ.
  uint64_t scheduled = 0;
  bool attempt_scheduled = false;
  uint64_t next_token = 0;
  /// Consecutive failures (for the backoff).
  uint64_t streak = 0;
  bool waiting_logged = false;
  obtainer_status status;

  static inline const char* name = "cert-obtainer";
};

using obtainer_actor = caf::stateful_actor<obtainer_state>;

void start_attempt(obtainer_actor* self, bool renewal);

void delete_object(obtainer_actor* self, const std::string& name) {
  auto& st = self->state;
  if (st.opts.cr.preserve || name.empty())
    return;
  auto log = st.log;
  self
    ->request(st.deps.kube, caf::infinite,
              delete_cr(st.opts.cr.namespace_, name))
    .then([](kube::response&) {},
          [log, name](caf::error& err) {
            if (!kube::is(err, kube::errc::not_found))
              logging::warn(*log, "failed to delete CertificateRequest",
                            {{"name", name}, {"err", errors::describe(err)}});
          });
}

/// Ends the current attempt: withdraws its wait, deletes its object.
void close_attempt(obtainer_actor* self) {
  auto& st = self->state;
  if (!st.current)
    return;
  auto at = std::move(*st.current);
  st.current.reset();
  if (!at.cr_name.empty()) {
    if (at.waiting)
      self->send(st.deps.watcher, cr_unwait_atom::value, at.cr_name);
    delete_object(self, at.cr_name);
  }
}

/// Schedules `start_attempt` after `delay`.
void schedule(obtainer_actor* self, caf::timespan delay, bool renewal) {
  auto& st = self->state;
  st.scheduled = ++st.next_token;
  st.attempt_scheduled = true;
  self->delayed_send(self, delay, obtain_atom::value, st.scheduled, renewal);
}

std::chrono::milliseconds backoff(obtainer_actor* self) {
  auto& st = self->state;
  retry::backoff policy{.initial = st.opts.initial_backoff,
                        .max = st.opts.max_backoff,
                        .multiplier = 2.0,
                        .jitter_low = 1.0 - st.opts.jitter,
                        .jitter_high = 1.0 + st.opts.jitter};
  return std::chrono::duration_cast<std::chrono::milliseconds>(
    policy.delay(std::max<uint64_t>(st.streak, 1), st.rng));
}

void attempt_failed(obtainer_actor* self, const std::string& reason) {
  auto& st = self->state;
  if (!st.current)
    return;
  auto renewal = st.current->renewal;
  close_attempt(self);
  metrics::tls_provider().failed.inc();
  ++st.streak;
  ++st.status.failures;
  st.status.last_error = reason;
  auto delay = backoff(self);
  logging::error(
    *st.log, "failed to obtain serving certificate, will retry",
    {{"err", reason}, {"retry_in_ms", std::to_string(delay.count())}});
  schedule(self, delay, renewal);
}

double unix_seconds(std::chrono::system_clock::time_point t) {
  return static_cast<double>(
    std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch())
      .count());
}

/// The serving certificate's expiry (ours) and istiod's
/// `citadel_server_cert_chain_expiry_timestamp`: the earliest notAfter of
/// the CA certificates above it (its intermediates and the current roots).
void export_expiry(obtainer_actor* self,
                   const std::vector<pki::certificate>& chain) {
  metrics::ours().serving_certificate_expiry.set(
    unix_seconds(chain.front().not_after()));
  std::optional<std::chrono::system_clock::time_point> earliest;
  auto consider = [&](const pki::certificate& cert) {
    auto t = cert.not_after();
    if (!earliest || t < *earliest)
      earliest = t;
  };
  for (size_t i = 1; i < chain.size(); ++i)
    consider(chain[i]);
  if (auto roots = self->state.deps.roots->current())
    for (const auto& cert : roots->certs)
      consider(cert);
  if (earliest)
    metrics::citadel().cert_chain_expiry.set(unix_seconds(*earliest));
}

void on_final(obtainer_actor* self, const finished_request& cr) {
  auto& st = self->state;
  if (!st.current)
    return;
  st.current->waiting = false;
  auto outcome = cr.outcome;
  if (outcome == cr_outcome::denied || outcome == cr_outcome::failed) {
    attempt_failed(self,
                   std::string{"serving CertificateRequest "}
                     + (outcome == cr_outcome::denied ? "denied: " : "failed: ")
                     + cr.conditions);
    return;
  }
  const auto& pem = cr.certificate;
  if (!pem) {
    attempt_failed(self, "status.certificate is not valid base64");
    return;
  }
  auto chain = pki::parse_pem_bundle(*pem, policy::max_chain_pem_bytes);
  if (!chain) {
    attempt_failed(self, "failed to parse the serving certificate: "
                           + errors::message(chain.error()));
    return;
  }
  const auto& key = *st.current->key;
  if (!chain->front().matches(key)) {
    attempt_failed(self, "the serving certificate does not match its key");
    return;
  }
  if (!st.opts.roots_from_file) {
    auto ca = cr.ca;
    if (!ca || ca->empty()) {
      attempt_failed(self, "root CA certificate is not defined");
      return;
    }
    auto roots = policy::load_root_bundle(std::move(*ca));
    if (!roots) {
      attempt_failed(self, "failed to decode status.ca: "
                             + errors::message(roots.error()));
      return;
    }
    if (st.deps.roots->set(std::move(*roots)))
      logging::info(*st.log, "root CA bundle updated from the serving "
                             "CertificateRequest");
  }
  caf::error sink_err;
  st.deps.roots->with_current([&](const root_store::bundle_ptr& roots) {
    std::vector<pki::certificate> certs;
    if (roots)
      certs = roots->certs;
    sink_err = st.deps.sink ? st.deps.sink(*chain, key, std::move(certs))
                            : caf::error{};
  });
  if (sink_err) {
    attempt_failed(self, "failed to install the serving certificate: "
                           + errors::message(sink_err));
    return;
  }
  auto name = st.current->cr_name;
  st.issued_by = st.current->issuer;
  close_attempt(self);
  metrics::tls_provider().succeeded.inc();
  export_expiry(self, *chain);
  st.have_certificate = true;
  st.streak = 0;
  ++st.status.obtained;
  st.status.last_error.clear();
  auto now = std::chrono::system_clock::now();
  auto not_after = chain->front().not_after();
  auto left = std::max(not_after - now, std::chrono::system_clock::duration{0});
  // Renewal at 2/3 of the remaining lifetime, as upstream.
  auto wait
    = std::chrono::duration_cast<std::chrono::milliseconds>(left * 2 / 3);
  st.status.not_after = not_after;
  st.status.renew_at = now + wait;
  logging::info(*st.log, "serving certificate ready",
                {{"certificaterequest", name},
                 {"not_after", kube::format_time(not_after)},
                 {"renew_at", kube::format_time(st.status.renew_at)}});
  schedule(self, wait, true);
}

void wait_for(obtainer_actor* self) {
  auto& st = self->state;
  if (!st.current)
    return;
  st.current->waiting = true;
  auto token = st.current->token;
  auto name = st.current->cr_name;
  self
    ->request(st.deps.watcher, caf::infinite, cr_wait_atom::value, name,
              caf::actor_cast<caf::actor>(self))
    .then(
      [self, token](finished_request& cr) {
        auto& st = self->state;
        if (st.current && st.current->token == token)
          on_final(self, cr);
      },
      [self, token](caf::error& err) {
        auto& st = self->state;
        if (!st.current || st.current->token != token)
          return;
        if (err == make_error(supervisor_errc::child_restarted)) {
          wait_for(self);
          return;
        }
        st.current->waiting = false;
        attempt_failed(self, "waiting for the serving CertificateRequest "
                             "failed: "
                               + errors::describe(err));
      });
}

caf::expected<pki::private_key> generate_key(const obtainer_options& opts) {
  if (opts.key_type == pki::key_algorithm::ec) {
    if (opts.key_size != 256 && opts.key_size != 384)
      return pki::invalid(
        "unsupported serving certificate key size (supported: 256, 384)");
    return pki::private_key::generate_ec(opts.key_size);
  }
  if (opts.key_size < 2048)
    return pki::invalid("requested key size does not meet the minimum "
                        "required size of 2048 (requested: "
                        + std::to_string(opts.key_size) + ")");
  return pki::private_key::generate_rsa(opts.key_size);
}

void start_attempt(obtainer_actor* self, bool renewal) {
  auto& st = self->state;
  if (st.current)
    return;
  if (!st.issuer) {
    st.status.waiting_for_issuer = true;
    return;
  }
  st.status.waiting_for_issuer = false;
  ++st.status.attempts;
  attempt_state at;
  at.token = ++st.next_token;
  at.renewal = renewal;
  auto key = generate_key(st.opts);
  if (!key) {
    st.current = std::move(at);
    attempt_failed(self, errors::message(key.error()));
    return;
  }
  pki::csr_template tmpl;
  tmpl.sans = pki::classify_san_strings(st.opts.dns_names);
  auto csr = pki::make_csr(*key, tmpl);
  at.key = std::move(*key);
  st.current = std::move(at);
  if (!csr) {
    attempt_failed(self, errors::message(csr.error()));
    return;
  }
  cr_request req;
  req.identities = "istio-csr-serving";
  req.csr_pem = csr->to_pem();
  req.duration = st.opts.duration;
  req.usages = {"server auth"};
  req.issuer = *st.issuer;
  st.current->issuer = *st.issuer;
  auto token = st.current->token;
  // The per-attempt timeout.
  auto timeout
    = renewal && st.have_certificate
        ? std::chrono::duration_cast<caf::timespan>(st.opts.renewal_timeout)
        : std::chrono::duration_cast<caf::timespan>(st.opts.attempt_timeout);
  if (timeout > caf::timespan::zero())
    self->delayed_send(self, timeout, obtain_timeout_atom::value, token);
  self
    ->request(st.deps.kube, caf::infinite,
              st.kube_calls.bind(kube::request::create(
                kube::resources::certificaterequests, st.opts.cr.namespace_,
                make_cr(st.opts.cr, req))))
    .then(
      [self, token](kube::response& created) {
        auto& st = self->state;
        auto name = kube::object_ref{created.body()}.name();
        if (!st.current || st.current->token != token) {
          delete_object(self, name); // the attempt timed out meanwhile
          return;
        }
        st.current->cr_name = name;
        logging::debug(*st.log, "created serving CertificateRequest",
                       {{"namespace", st.opts.cr.namespace_}, {"name", name}});
        wait_for(self);
      },
      [self, token](caf::error& err) {
        auto& st = self->state;
        if (st.current && st.current->token == token)
          attempt_failed(self, "failed to create the serving "
                               "CertificateRequest: "
                                 + errors::describe(err));
      });
}

caf::behavior obtainer_impl(obtainer_actor* self, obtainer_options opts,
                            obtainer_deps deps) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.deps = std::move(deps);
  st.log = logging::get("tls-provider");
  // Tells us the issuer now and on every change.
  st.deps.issuer->subscribe(caf::actor_cast<caf::actor>(self));
  self->attach_functor([issuer = st.deps.issuer, addr = self->address()] {
    issuer->unsubscribe(addr);
  });
  introspection::enable(self, [self] {
    auto& st = self->state;
    std::string state = st.have_certificate ? "certificate held"
                        : st.issuer         ? "no certificate yet"
                                            : "waiting for an issuer";
    if (st.current)
      state += ", attempt in flight";
    return introspection::report{std::move(state)};
  });
  return {
    [self](issuer_changed_atom, const issuer_update& update) {
      auto& st = self->state;
      st.issuer = update.issuer;
      if (!st.issuer) {
        st.status.waiting_for_issuer = !st.have_certificate;
        if (!st.waiting_logged) {
          st.waiting_logged = true;
          self->send(self, obtain_waiting_atom::value);
        }
        return;
      }
      if (!st.have_certificate) {
        if (!st.current && !st.attempt_scheduled)
          start_attempt(self, false);
        return;
      }
      // Another issuer than the held certificate's: re-issue now (see
      // obtainer_options::reissue_on_issuer_change). An attempt in flight
      // with an older issuer is abandoned; a pending renewal timer goes
      // stale.
      if (!st.opts.reissue_on_issuer_change || st.issued_by == st.issuer
          || (st.current && st.current->issuer == *st.issuer))
        return;
      logging::info(*st.log,
                    "issuer changed, re-issuing the serving "
                    "certificate",
                    {{"issuer", st.issuer->name + "/" + st.issuer->kind + "/"
                                  + st.issuer->group}});
      close_attempt(self);
      st.attempt_scheduled = false;
      st.scheduled = ++st.next_token;
      start_attempt(self, true);
    },
    [self](obtain_waiting_atom) {
      auto& st = self->state;
      if (st.issuer || st.have_certificate) {
        st.waiting_logged = false;
        return;
      }
      logging::info(*st.log,
                    "still waiting for runtime configuration of issuerRef");
      self->delayed_send(self, st.opts.waiting_log_interval,
                         obtain_waiting_atom::value);
    },
    [self](obtain_atom, uint64_t token, bool renewal) {
      auto& st = self->state;
      if (token != st.scheduled)
        return;
      st.attempt_scheduled = false;
      start_attempt(self, renewal);
    },
    [self](obtain_timeout_atom, uint64_t token) {
      auto& st = self->state;
      if (!st.current || st.current->token != token)
        return;
      if (!st.have_certificate)
        logging::warn(*st.log,
                      "initial serving certificate didn't complete in "
                        + kube::format_go_duration(st.opts.attempt_timeout)
                        + "; will retry");
      attempt_failed(self, "serving certificate request timed out");
    },
    [self](stats_atom) { return self->state.status; },
  };
}

} // namespace

caf::actor spawn_cert_obtainer(caf::actor_system& sys, obtainer_options opts,
                               obtainer_deps deps) {
  return sys.spawn<caf::detached>(obtainer_impl, std::move(opts),
                                  std::move(deps));
}

} // namespace istio_csr::actors::signing
