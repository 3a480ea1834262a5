// The CertificateRequest side of cert-manager: the internal approver, the
// pending/failed/issued reporting of the certificaterequests controllers and
// the CA and selfSigned signers, plus the devcluster test behaviours.

#include "devcluster/issuer/engine.hpp"

#include "devcluster/issuer/signer.hpp"
#include "devcluster/issuer/status.hpp"
#include "kube/api/base64.hpp"
#include "kube/api/certificate_request.hpp"
#include "kube/api/time.hpp"
#include "kube/client/client.hpp"
#include "kube/client/resource.hpp"
#include "logging/logging.hpp"

namespace istio_csr::devcluster::issuer {

namespace {

std::string lower(std::string text) {
  for (auto& c : text)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return text;
}

} // namespace

void engine::reconcile_request(const nlohmann::json& obj, finish_fn done) {
  kube::certificate_request_view view{obj};
  const auto uid = view.uid();
  if (view.deleting() || finished_requests_.count(uid) > 0) {
    done(outcome::done);
    return;
  }
  auto ref = view.issuer();
  if (!ref.group.empty() && ref.group != "cert-manager.io") {
    done(outcome::done); // an external issuer's request
    return;
  }
  auto issuer_kind = ref.kind.empty() ? std::string{"Issuer"} : ref.kind;
  if (has_condition(obj, "Ready", "True") || view.failed()) {
    finished_requests_.insert(uid);
    done(outcome::done);
    return;
  }
  if (auto* ready = condition_json(obj, "Ready");
      ready != nullptr && kube::string_at(*ready, {"reason"}) == "Denied") {
    finished_requests_.insert(uid);
    done(outcome::done);
    return;
  }
  std::shared_ptr<const evaluated_issuer> iss;
  bool known_kind = issuer_kind == "Issuer" || issuer_kind == "ClusterIssuer";
  if (known_kind)
    iss = find_issuer(issuer_kind, view.namespace_(), ref.name);
  auto mode = iss ? iss->mode : behaviour::normal;
  if (mode == behaviour::never) {
    done(outcome::done);
    return;
  }
  auto now = std::chrono::system_clock::now();
  auto next = obj;
  bool changed = false;
  bool terminal = false;
  bool denied = has_condition(obj, "Denied", "True");
  if (!denied && !has_condition(obj, "Approved", "True")) {
    if (mode == behaviour::deny) {
      set_condition(next,
                    {"Denied", "True", "devcluster",
                     "Denied by devcluster: the issuer is annotated "
                     "devcluster.istio-csr.io/behaviour: deny"},
                    now);
      denied = true;
    } else {
      set_condition(next,
                    {"Approved", "True", "cert-manager.io",
                     "Certificate request has been approved by "
                     "cert-manager.io"},
                    now);
    }
    changed = true;
  }
  auto fail = [&](std::string message) {
    changed |= set_condition(next, {"Ready", "False", "Failed", message}, now);
    next["status"]["failureTime"] = kube::format_time(now);
    terminal = true;
  };
  auto pend = [&](std::string message) {
    changed |= set_condition(next, {"Ready", "False", "Pending", message}, now);
  };
  if (denied) {
    set_condition(next,
                  {"Ready", "False", "Denied",
                   "The CertificateRequest was denied by an approval "
                   "controller"},
                  now);
    next["status"]["failureTime"] = kube::format_time(now);
    changed = terminal = true;
  } else if (!known_kind || !iss) {
    auto kind_name = lower(issuer_kind);
    pend("Referenced \"" + issuer_kind + "\" not found: " + kind_name
         + ".cert-manager.io \"" + ref.name + "\" not found");
  } else if (!iss->ready) {
    pend("Referenced issuer does not have a Ready status condition");
  } else if (mode == behaviour::fail) {
    fail("Failed by devcluster: the issuer is annotated "
         "devcluster.istio-csr.io/behaviour: fail");
  } else if (mode == behaviour::delay && delay_elapsed_.count(uid) == 0) {
    if (delay_started_.insert(uid).second) {
      std::weak_ptr<engine> weak = weak_from_this();
      auto key = view.key();
      cli_->schedule(iss->delay, [weak, uid, key] {
        auto self = weak.lock();
        if (!self || self->stopped_)
          return;
        self->delay_elapsed_.insert(uid);
        self->enqueue(kind::request, key);
      });
    }
  } else {
    auto out = sign_request(obj, *iss, secrets(), now);
    switch (out.what) {
      case sign_outcome::state::issued:
        next["status"]["certificate"]
          = kube::base64_encode(out.certificate_pem);
        if (mode == behaviour::empty_ca || out.ca_pem.empty())
          next["status"].erase("ca");
        else
          next["status"]["ca"] = kube::base64_encode(out.ca_pem);
        set_condition(next,
                      {"Ready", "True", "Issued",
                       "Certificate fetched from issuer successfully"},
                      now);
        changed = terminal = true;
        break;
      case sign_outcome::state::failed: fail(out.message); break;
      case sign_outcome::state::pending: pend(out.message); break;
    }
  }
  if (!changed) {
    done(outcome::done);
    return;
  }
  auto ready = kube::conditions_of(next);
  logging::debug(*log_, "updating CertificateRequest",
                 {{"request", view.key()},
                  {"issuer", issuer_kind + "/" + ref.name},
                  {"conditions", kube::to_string(ready)}});
  std::weak_ptr<engine> weak = weak_from_this();
  write_status(kind::request, kube::resources::certificaterequests,
               std::move(next),
               [weak, uid, terminal, done = std::move(done)](outcome o) {
                 auto self = weak.lock();
                 if (self && o == outcome::done && terminal)
                   self->finished_requests_.insert(uid);
                 done(o);
               });
}

} // namespace istio_csr::devcluster::issuer
