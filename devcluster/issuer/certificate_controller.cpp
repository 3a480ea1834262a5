// A minimal cert-manager Certificate controller: cert-manager's trigger, key
// manager, request manager, issuing and readiness controllers folded into one
// reconcile, leaving the same objects in the cluster (a next-private-key
// Secret, CertificateRequests `<name>-<revision>`, the target Secret, the
// Certificate status).

#include "devcluster/issuer/engine.hpp"

#include <algorithm>
#include <charconv>

#include "config/go_duration.hpp"
#include "devcluster/issuer/key_worker.hpp"
#include "devcluster/issuer/signer.hpp"
#include "devcluster/issuer/status.hpp"
#include "errors/describe.hpp"
#include "kube/api/base64.hpp"
#include "kube/api/certificate_request.hpp"
#include "kube/api/errc.hpp"
#include "kube/api/time.hpp"
#include "kube/client/client.hpp"
#include "kube/client/resource.hpp"
#include "logging/logging.hpp"
#include "pki/csr.hpp"
#include "pki/error.hpp"
#include "pki/pem.hpp"

namespace istio_csr::devcluster::issuer {

namespace {

using sys_clock = std::chrono::system_clock;
using nlohmann::json;

constexpr std::string_view certificate_name_annotation
  = "cert-manager.io/certificate-name";
constexpr std::string_view revision_annotation
  = "cert-manager.io/certificate-revision";
constexpr std::string_view next_key_label = "cert-manager.io/next-private-key";

std::vector<std::string> strings_at(const json& obj,
                                    std::initializer_list<std::string_view> p) {
  std::vector<std::string> out;
  auto* member = kube::member_at(obj, p);
  if (member != nullptr && member->is_array())
    for (auto& x : *member)
      if (x.is_string())
        out.push_back(x.get<std::string>());
  return out;
}

std::vector<std::string> sorted(std::vector<std::string> xs) {
  std::sort(xs.begin(), xs.end());
  xs.erase(std::unique(xs.begin(), xs.end()), xs.end());
  return xs;
}

bool same_set(const std::vector<std::string>& a,
              const std::vector<std::string>& b) {
  return sorted(a) == sorted(b);
}

std::string join(const std::vector<std::string>& xs) {
  std::string out;
  for (auto& x : xs)
    out += (out.empty() ? "" : ",") + x;
  return out;
}

bool owned_by(const json& obj, const std::string& uid) {
  auto* refs = kube::member_at(obj, {"metadata", "ownerReferences"});
  if (refs == nullptr || !refs->is_array())
    return false;
  for (auto& r : *refs)
    if (kube::string_at(r, {"uid"}) == uid)
      return true;
  return false;
}

std::optional<int64_t> revision_of(const json& cr) {
  auto text = kube::object_ref{cr}.annotation(revision_annotation);
  if (!text)
    return std::nullopt;
  int64_t value = 0;
  auto [ptr, ec]
    = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc{} || ptr != text->data() + text->size())
    return std::nullopt;
  return value;
}

std::optional<sys_clock::time_point>
time_at(const json& obj, std::initializer_list<std::string_view> p) {
  const auto& text = kube::string_at(obj, p);
  if (text.empty())
    return std::nullopt;
  return kube::parse_time(text);
}

std::optional<std::chrono::nanoseconds>
duration_at(const json& obj, std::initializer_list<std::string_view> p) {
  const auto& text = kube::string_at(obj, p);
  if (text.empty())
    return std::nullopt;
  auto parsed = config::parse_go_duration(text);
  if (!parsed)
    return std::nullopt;
  return *parsed;
}

sys_clock::time_point
renewal_time(sys_clock::time_point not_before, sys_clock::time_point not_after,
             std::optional<std::chrono::nanoseconds> renew_before) {
  auto actual = not_after - not_before;
  auto before
    = renew_before
        ? std::chrono::duration_cast<sys_clock::duration>(*renew_before)
        : actual / 3;
  if (before >= actual)
    before = actual / 3;
  return std::chrono::time_point_cast<std::chrono::seconds>(not_after - before);
}

std::chrono::milliseconds failure_backoff(int64_t attempts) {
  // cert-manager: 1h after the first failure, doubling up to 32h.
  auto n = std::clamp<int64_t>(attempts, 1, 6);
  return std::chrono::hours{1} * (1 << (n - 1));
}

} // namespace

struct engine::cert_context {
  json obj;
  std::string ns;
  std::string name;
  std::string uid;
  std::string key;
  int64_t generation = 0;
  sys_clock::time_point now;
  // spec
  std::string secret_name;
  kube::issuer_ref issuer;
  std::string common_name;
  std::vector<std::string> dns, uris, ips, emails, orgs, ous;
  std::optional<std::chrono::nanoseconds> duration;
  std::optional<std::chrono::nanoseconds> renew_before;
  std::string algorithm = "RSA";
  int size = 2048;
  std::string rotation = "Always";
  std::string encoding = "PKCS1";
  bool is_ca = false;
  std::vector<std::string> usages;
  std::optional<int64_t> history_limit;
  std::string spec_error;
  // status
  int64_t revision = 0;
  // cluster state
  kube::object_ptr secret;
  std::vector<kube::object_ptr> requests; // owned, any revision
  kube::object_ptr key_secret;            // the next private key

  json owner_reference() const {
    return json{{"apiVersion", "cert-manager.io/v1"},
                {"kind", "Certificate"},
                {"name", name},
                {"uid", uid},
                {"controller", true},
                {"blockOwnerDeletion", true}};
  }

  std::string issuer_text() const {
    return issuer.kind + "." + issuer.group + "/" + issuer.name;
  }

  kube::object_ptr request_for(int64_t rev) const {
    for (auto& cr : requests)
      if (revision_of(*cr) == rev)
        return cr;
    return nullptr;
  }

  bool key_fits(const pki::private_key& k) const {
    if (algorithm == "ECDSA")
      return k.algorithm() == pki::key_algorithm::ec && k.bits() == size;
    return k.algorithm() == pki::key_algorithm::rsa && k.bits() == size;
  }

  std::string key_pem(const pki::private_key& k) const {
    return encoding == "PKCS8" ? k.to_pem() : k.to_traditional_pem();
  }

  std::string duration_text() const {
    return duration ? kube::format_go_duration(*duration) : std::string{};
  }
};

namespace {

using cert_context = engine::cert_context;

void parse_spec(cert_context& ctx) {
  const auto& obj = ctx.obj;
  kube::object_ref ref{obj};
  ctx.ns = ref.namespace_();
  ctx.name = ref.name();
  ctx.uid = ref.uid();
  ctx.key = ref.key();
  ctx.generation = ref.generation();
  ctx.secret_name = kube::string_at(obj, {"spec", "secretName"});
  ctx.issuer = kube::issuer_ref_of(kube::member_at(obj, {"spec", "issuerRef"}));
  if (ctx.issuer.kind.empty())
    ctx.issuer.kind = "Issuer";
  if (ctx.issuer.group.empty())
    ctx.issuer.group = "cert-manager.io";
  ctx.common_name = kube::string_at(obj, {"spec", "commonName"});
  ctx.dns = strings_at(obj, {"spec", "dnsNames"});
  ctx.uris = strings_at(obj, {"spec", "uris"});
  ctx.ips = strings_at(obj, {"spec", "ipAddresses"});
  ctx.emails = strings_at(obj, {"spec", "emailAddresses"});
  ctx.orgs = strings_at(obj, {"spec", "subject", "organizations"});
  ctx.ous = strings_at(obj, {"spec", "subject", "organizationalUnits"});
  ctx.usages = strings_at(obj, {"spec", "usages"});
  if (auto* ca = kube::member_at(obj, {"spec", "isCA"}); ca && ca->is_boolean())
    ctx.is_ca = ca->get<bool>();
  if (!kube::string_at(obj, {"spec", "duration"}).empty()) {
    ctx.duration = duration_at(obj, {"spec", "duration"});
    if (!ctx.duration)
      ctx.spec_error = "spec.duration is not a valid duration";
  }
  if (!kube::string_at(obj, {"spec", "renewBefore"}).empty()) {
    ctx.renew_before = duration_at(obj, {"spec", "renewBefore"});
    if (!ctx.renew_before)
      ctx.spec_error = "spec.renewBefore is not a valid duration";
  }
  if (auto& a = kube::string_at(obj, {"spec", "privateKey", "algorithm"});
      !a.empty())
    ctx.algorithm = a;
  if (ctx.algorithm == "ECDSA")
    ctx.size = 256;
  if (auto* s = kube::member_at(obj, {"spec", "privateKey", "size"});
      s != nullptr && s->is_number_integer() && s->get<int>() != 0)
    ctx.size = s->get<int>();
  if (auto& r = kube::string_at(obj, {"spec", "privateKey", "rotationPolicy"});
      !r.empty())
    ctx.rotation = r;
  if (auto& e = kube::string_at(obj, {"spec", "privateKey", "encoding"});
      !e.empty())
    ctx.encoding = e;
  if (auto* h = kube::member_at(obj, {"spec", "revisionHistoryLimit"});
      h != nullptr && h->is_number_integer())
    ctx.history_limit = std::max<int64_t>(1, h->get<int64_t>());
  if (auto* r = kube::member_at(obj, {"status", "revision"});
      r != nullptr && r->is_number_integer())
    ctx.revision = r->get<int64_t>();
  if (ctx.secret_name.empty())
    ctx.spec_error = "spec.secretName is required";
  else if (ctx.issuer.name.empty())
    ctx.spec_error = "spec.issuerRef.name is required";
  else if (ctx.algorithm == "RSA" && (ctx.size < 2048 || ctx.size > 8192))
    ctx.spec_error = "spec.privateKey.size: RSA keys need 2048 to 8192 bits";
  else if (ctx.algorithm == "ECDSA" && ctx.size != 256 && ctx.size != 384)
    ctx.spec_error = "spec.privateKey.size: devcluster supports ECDSA 256 "
                     "and 384";
  else if (ctx.algorithm != "RSA" && ctx.algorithm != "ECDSA")
    ctx.spec_error = "spec.privateKey.algorithm: devcluster supports RSA and "
                     "ECDSA";
  else if (ctx.rotation != "Always" && ctx.rotation != "Never")
    ctx.spec_error = "spec.privateKey.rotationPolicy must be Always or Never";
  else if (ctx.encoding != "PKCS1" && ctx.encoding != "PKCS8")
    ctx.spec_error = "spec.privateKey.encoding must be PKCS1 or PKCS8";
}

/// Fields of the spec the certificate `cert` (or a request's CSR with these
/// names) does not reflect.
std::vector<std::string> name_mismatches(const cert_context& ctx,
                                         const pki::distinguished_name& subject,
                                         const pki::subject_alt_names& sans) {
  std::vector<std::string> out;
  if (subject.common_name.value_or("") != ctx.common_name)
    out.emplace_back("spec.commonName");
  if (!same_set(sans.dns, ctx.dns))
    out.emplace_back("spec.dnsNames");
  if (!same_set(sans.uris, ctx.uris))
    out.emplace_back("spec.uris");
  if (!same_set(sans.ips, ctx.ips))
    out.emplace_back("spec.ipAddresses");
  if (!same_set(sans.emails, ctx.emails))
    out.emplace_back("spec.emailAddresses");
  if (!same_set(subject.organizations, ctx.orgs))
    out.emplace_back("spec.subject.organizations");
  return out;
}

/// Fields of the spec a CertificateRequest does not reflect.
std::vector<std::string> request_mismatches(const cert_context& ctx,
                                            const json& cr) {
  std::vector<std::string> out;
  kube::certificate_request_view view{cr};
  auto ref = view.issuer();
  if (ref.name != ctx.issuer.name
      || (ref.kind.empty() ? "Issuer" : ref.kind) != ctx.issuer.kind
      || (ref.group.empty() ? "cert-manager.io" : ref.group)
           != ctx.issuer.group)
    out.emplace_back("spec.issuerRef");
  if (view.is_ca() != ctx.is_ca)
    out.emplace_back("spec.isCA");
  if (!same_set(view.usages(), ctx.usages))
    out.emplace_back("spec.usages");
  auto requested = duration_at(cr, {"spec", "duration"});
  if (requested != ctx.duration)
    out.emplace_back("spec.duration");
  auto pem = view.request();
  auto csr = pem ? pki::csr::from_pem(*pem)
                 : caf::expected<pki::csr>{pki::invalid("no request")};
  auto sans
    = csr ? csr->sans()
          : caf::expected<pki::subject_alt_names>{pki::invalid("no request")};
  if (!csr || !sans) {
    out.emplace_back("spec.request");
    return out;
  }
  auto names = name_mismatches(ctx, csr->subject(), *sans);
  out.insert(out.end(), names.begin(), names.end());
  return out;
}

std::string fields_text(const std::vector<std::string>& fields) {
  std::string out = "[";
  for (size_t i = 0; i < fields.size(); ++i)
    out += (i > 0 ? " " : "") + fields[i];
  return out + "]";
}

/// Why the target Secret needs a new certificate (cert-manager's trigger
/// policies), nullopt when it is up to date.
struct trigger {
  std::string reason;
  std::string message;
  bool renewal = false; ///< only due for renewal: the current one is valid
};

struct secret_view {
  std::optional<pki::certificate> cert;
  std::optional<pki::private_key> key;
  std::optional<trigger> why;
  sys_clock::time_point renewal;
};

secret_view inspect(const cert_context& ctx) {
  secret_view out;
  auto set = [&](std::string reason, std::string message) {
    out.why = trigger{std::move(reason), std::move(message), false};
    return out;
  };
  if (!ctx.secret)
    return set("DoesNotExist", "Issuing certificate as Secret does not exist");
  const auto& s = *ctx.secret;
  auto crt = secret_data(s, "tls.crt");
  auto key = secret_data(s, "tls.key");
  if (!crt || crt->empty() || !key || key->empty())
    return set("MissingData", "Issuing certificate as Secret does not contain "
                              "a certificate or private key");
  auto cert = pki::certificate::from_pem(*crt);
  if (!cert)
    return set("InvalidCertificate",
               "Issuing certificate as Secret contains "
               "an invalid certificate: "
                 + istio_csr::errors::message(cert.error()));
  auto pkey = pki::private_key::from_pem(*key);
  if (!pkey)
    return set("InvalidKeyPair", "Issuing certificate as Secret contains an "
                                 "invalid private key: "
                                   + istio_csr::errors::message(pkey.error()));
  out.cert = *cert;
  out.key = *pkey;
  if (!cert->matches(*pkey))
    return set("InvalidKeyPair", "Issuing certificate as Secret contains a "
                                 "private key that does not match the "
                                 "certificate");
  kube::object_ref sref{s};
  auto iname = sref.annotation("cert-manager.io/issuer-name").value_or("");
  auto ikind = sref.annotation("cert-manager.io/issuer-kind").value_or("");
  auto igroup = sref.annotation("cert-manager.io/issuer-group").value_or("");
  if (iname != ctx.issuer.name || ikind != ctx.issuer.kind
      || (igroup.empty() ? "cert-manager.io" : igroup) != ctx.issuer.group)
    return set("IncorrectIssuer",
               "Issuing certificate as Secret was previously issued by \""
                 + ikind + "." + igroup + "/" + iname + "\"");
  if (!ctx.key_fits(*pkey))
    return set("SecretMismatch", "Issuing certificate as Existing private key "
                                 "is not up to date for spec: "
                                 "[spec.privateKey]");
  auto fields = name_mismatches(ctx, cert->subject(), cert->sans());
  if (cert->is_ca() != ctx.is_ca)
    fields.emplace_back("spec.isCA");
  if (fields.empty())
    if (auto current = ctx.request_for(ctx.revision))
      fields = request_mismatches(ctx, *current);
  if (!fields.empty())
    return set("RequestChanged",
               "Issuing certificate as Fields on existing CertificateRequest "
               "resource not up to date: "
                 + fields_text(fields));
  out.renewal
    = renewal_time(cert->not_before(), cert->not_after(), ctx.renew_before);
  if (cert->not_after() <= ctx.now)
    return set("Expired", "Issuing certificate as Certificate expired at "
                            + kube::format_time(cert->not_after()));
  if (out.renewal <= ctx.now)
    out.why = trigger{"Renewing",
                      "Renewing certificate as renewal was scheduled at "
                        + kube::format_time(out.renewal),
                      true};
  return out;
}

/// cert-manager's readiness controller: Ready=True while the Secret holds a
/// valid certificate matching the spec.
void set_readiness(const cert_context& ctx, const secret_view& sv, json& next) {
  auto& status = next["status"];
  if (!status.is_object())
    status = json::object();
  if (!sv.why || sv.why->renewal) {
    set_condition(next,
                  {"Ready", "True", "Ready",
                   "Certificate is up to date and has not expired"},
                  ctx.now, ctx.generation);
  } else {
    set_condition(next, {"Ready", "False", sv.why->reason, sv.why->message},
                  ctx.now, ctx.generation);
  }
  if (sv.cert) {
    status["notBefore"] = kube::format_time(sv.cert->not_before());
    status["notAfter"] = kube::format_time(sv.cert->not_after());
    status["renewalTime"] = kube::format_time(renewal_time(
      sv.cert->not_before(), sv.cert->not_after(), ctx.renew_before));
  }
}

} // namespace

void engine::reconcile_certificate(const nlohmann::json& obj, finish_fn done) {
  auto ctx = std::make_shared<cert_context>();
  ctx->obj = obj;
  ctx->now = sys_clock::now();
  parse_spec(*ctx);
  if (kube::object_ref{obj}.deleting()) {
    done(outcome::done);
    return;
  }
  if (!ctx->spec_error.empty()) {
    auto next = obj;
    if (set_condition(next, {"Ready", "False", "InvalidSpec", ctx->spec_error},
                      ctx->now, ctx->generation)) {
      write_status(kind::certificate, kube::resources::certificates,
                   std::move(next), std::move(done));
      return;
    }
    done(outcome::done);
    return;
  }
  ctx->secret = secret(ctx->ns, ctx->secret_name);
  for (auto& cr : requests_->list()) {
    kube::object_ref ref{*cr};
    if (ref.namespace_() == ctx->ns
        && ref.annotation(certificate_name_annotation) == ctx->name
        && owned_by(*cr, ctx->uid))
      ctx->requests.push_back(cr);
  }
  for (auto& s : secrets_->list()) {
    kube::object_ref ref{*s};
    if (ref.namespace_() == ctx->ns && ref.label(next_key_label) == "true"
        && owned_by(*s, ctx->uid)) {
      ctx->key_secret = s;
      generating_.erase(ctx->uid);
      break;
    }
  }
  if (has_condition(obj, "Issuing", "True"))
    cert_issuing(std::move(ctx), std::move(done));
  else
    cert_not_issuing(std::move(ctx), std::move(done));
}

void engine::cert_not_issuing(cert_ptr ctx, finish_fn done) {
  auto sv = inspect(*ctx);
  auto next = ctx->obj;
  set_readiness(*ctx, sv, next);
  if (sv.why) {
    // A failed issuance backs off, unless the spec changed since.
    auto attempts = next["status"].value("failedIssuanceAttempts", int64_t{0});
    auto last = time_at(next, {"status", "lastFailureTime"});
    auto* issuing = condition_json(next, "Issuing");
    bool same_generation
      = issuing != nullptr
        && issuing->value("observedGeneration", int64_t{-1}) == ctx->generation;
    if (attempts > 0 && last && same_generation
        && ctx->now < *last + failure_backoff(attempts)) {
      enqueue_at(kind::certificate, ctx->key,
                 *last + failure_backoff(attempts));
    } else {
      set_condition(next, {"Issuing", "True", sv.why->reason, sv.why->message},
                    ctx->now, ctx->generation);
      logging::info(*log_, "issuing certificate",
                    {{"certificate", ctx->key},
                     {"reason", sv.why->reason},
                     {"message", sv.why->message}});
    }
  } else {
    remove_condition(next, "Issuing");
    next["status"].erase("failedIssuanceAttempts");
    next["status"].erase("lastFailureTime");
    enqueue_at(kind::certificate, ctx->key, sv.renewal);
    cert_cleanup(*ctx);
  }
  if (next == ctx->obj) {
    done(outcome::done);
    return;
  }
  write_status(kind::certificate, kube::resources::certificates,
               std::move(next), std::move(done));
}

void engine::cert_issuing(cert_ptr ctx, finish_fn done) {
  auto next_rev = ctx->revision + 1;
  if (!ctx->key_secret) {
    if (generating_.count(ctx->uid) > 0) {
      done(outcome::done); // the key Secret's event continues
      return;
    }
    if (ctx->rotation == "Never") {
      auto sv = inspect(*ctx);
      if (sv.key && ctx->key_fits(*sv.key)) {
        cert_store_key(*ctx, *sv.key);
        done(outcome::done);
        return;
      }
    }
    cert_new_key(std::move(ctx), std::move(done));
    return;
  }
  auto key_pem = secret_data(*ctx->key_secret, "tls.key");
  auto key = key_pem
               ? pki::private_key::from_pem(*key_pem)
               : caf::expected<pki::private_key>{pki::invalid("no tls.key")};
  kube::object_ref kref{*ctx->key_secret};
  if (!key || !ctx->key_fits(*key)) {
    logging::info(*log_, "deleting a next private key that does not fit",
                  {{"certificate", ctx->key}, {"secret", kref.name()}});
    remove_object(kube::resources::secrets, ctx->ns, kref.name(), kref.uid());
    done(outcome::done);
    return;
  }
  auto cr = ctx->request_for(next_rev);
  if (!cr) {
    // A request of that name from an earlier Certificate of the same name
    // (no garbage collector) would block the create.
    auto cr_name = ctx->name + "-" + std::to_string(next_rev);
    if (auto old = requests_->get(ctx->ns, cr_name);
        old && !owned_by(*old, ctx->uid)) {
      remove_object(kube::resources::certificaterequests, ctx->ns, cr_name,
                    kube::object_ref{*old}.uid());
      done(outcome::done);
      return;
    }
    cert_create_request(std::move(ctx), *key, std::move(done));
    return;
  }
  kube::certificate_request_view view{*cr};
  auto fields = request_mismatches(*ctx, *cr);
  auto pem = view.request();
  auto csr = pem ? pki::csr::from_pem(*pem)
                 : caf::expected<pki::csr>{pki::invalid("no request")};
  if (!csr || !(csr->public_key() == key->public_key()))
    fields.emplace_back("spec.privateKey");
  if (view.annotation(private_key_secret_annotation) != kref.name())
    fields.emplace_back("metadata.annotations");
  if (!fields.empty()) {
    logging::info(*log_, "deleting an out-of-date CertificateRequest",
                  {{"certificate", ctx->key},
                   {"request", view.name()},
                   {"fields", fields_text(fields)}});
    remove_object(kube::resources::certificaterequests, ctx->ns, view.name(),
                  view.uid());
    done(outcome::done);
    return;
  }
  if (view.ready()) {
    cert_complete(std::move(ctx), cr, *key, std::move(done));
    return;
  }
  if (view.failed() || view.denied()) {
    auto failed_at = time_at(*cr, {"status", "failureTime"});
    auto* issuing = condition_json(ctx->obj, "Issuing");
    auto started
      = issuing ? time_at(*issuing, {"lastTransitionTime"}) : std::nullopt;
    if (failed_at && started && *failed_at < *started) {
      // The failure of an earlier attempt: ask again.
      remove_object(kube::resources::certificaterequests, ctx->ns, view.name(),
                    view.uid());
      done(outcome::done);
      return;
    }
    auto ready = kube::find_condition(view.conditions(), "Ready");
    cert_failed(std::move(ctx), cr, ready ? ready->message : "denied",
                std::move(done));
    return;
  }
  done(outcome::done); // pending: the request's events continue
}

void engine::cert_new_key(cert_ptr ctx, finish_fn done) {
  generating_.insert(ctx->uid);
  std::weak_ptr<engine> weak = weak_from_this();
  auto cli = cli_;
  worker_.submit([weak, cli, ctx] {
    auto key = ctx->algorithm == "ECDSA"
                 ? pki::private_key::generate_ec(ctx->size)
                 : pki::private_key::generate_rsa(ctx->size);
    cli->post([weak, ctx, key = std::move(key)] {
      auto self = weak.lock();
      if (!self || self->stopped_)
        return;
      if (!key) {
        self->generating_.erase(ctx->uid);
        logging::error(*self->log_, "cannot generate a private key",
                       {{"certificate", ctx->key},
                        {"err", istio_csr::errors::message(key.error())}});
        self->enqueue_after(kind::certificate, ctx->key,
                            std::chrono::seconds{5});
        return;
      }
      self->cert_store_key(*ctx, *key);
    });
  });
  done(outcome::done);
}

void engine::cert_store_key(const cert_context& ctx,
                            const pki::private_key& key) {
  generating_.insert(ctx.uid);
  json secret{
    {"apiVersion", "v1"},
    {"kind", "Secret"},
    {"metadata",
     {{"generateName", ctx.name + "-"},
      {"namespace", ctx.ns},
      {"labels", {{std::string{next_key_label}, "true"}}},
      {"ownerReferences", json::array({ctx.owner_reference()})}}},
    {"type", "Opaque"},
    {"data", {{"tls.key", kube::base64_encode(key.to_pem())}}},
  };
  std::weak_ptr<engine> weak = weak_from_this();
  auto uid = ctx.uid;
  auto key_name = ctx.key;
  cli_->create(kube::resources::secrets, std::move(secret),
               [weak, uid, key_name](caf::expected<json> res) {
                 auto self = weak.lock();
                 if (!self || self->stopped_)
                   return;
                 if (!res) {
                   self->generating_.erase(uid);
                   logging::warn(
                     *self->log_, "cannot create the next private key Secret",
                     {{"certificate", key_name},
                      {"err", istio_csr::errors::describe(res.error())}});
                   self->enqueue_after(kind::certificate, key_name,
                                       std::chrono::seconds{1});
                 }
                 // Success: the Secret's informer event continues.
               });
}

void engine::cert_create_request(cert_ptr ctx, const pki::private_key& key,
                                 finish_fn done) {
  auto next_rev = ctx->revision + 1;
  pki::csr_template tmpl;
  tmpl.subject = pki::distinguished_name{};
  if (!ctx->common_name.empty())
    tmpl.subject.common_name = ctx->common_name;
  tmpl.subject.organizations = ctx->orgs;
  tmpl.subject.organizational_units = ctx->ous;
  tmpl.sans.dns = ctx->dns;
  tmpl.sans.ips = ctx->ips;
  tmpl.sans.uris = ctx->uris;
  tmpl.sans.emails = ctx->emails;
  tmpl.san_critical
    = ctx->common_name.empty() && ctx->orgs.empty() && ctx->ous.empty();
  auto csr = pki::make_csr(key, tmpl);
  if (!csr) {
    cert_failed(ctx, nullptr,
                "cannot create a CSR: "
                  + istio_csr::errors::message(csr.error()),
                std::move(done));
    return;
  }
  json spec{{"request", kube::base64_encode(csr->to_pem())},
            {"issuerRef", kube::to_json(ctx->issuer)},
            {"isCA", ctx->is_ca}};
  if (ctx->duration)
    spec["duration"] = ctx->duration_text();
  if (!ctx->usages.empty())
    spec["usages"] = ctx->usages;
  json cr{
    {"apiVersion", "cert-manager.io/v1"},
    {"kind", "CertificateRequest"},
    {"metadata",
     {{"name", ctx->name + "-" + std::to_string(next_rev)},
      {"namespace", ctx->ns},
      {"annotations",
       {{std::string{certificate_name_annotation}, ctx->name},
        {std::string{revision_annotation}, std::to_string(next_rev)},
        {std::string{private_key_secret_annotation},
         kube::object_ref{*ctx->key_secret}.name()}}},
      {"ownerReferences", json::array({ctx->owner_reference()})}}},
    {"spec", std::move(spec)},
  };
  logging::info(*log_, "creating CertificateRequest",
                {{"certificate", ctx->key},
                 {"revision", std::to_string(next_rev)},
                 {"issuer", ctx->issuer_text()}});
  std::weak_ptr<engine> weak = weak_from_this();
  cli_->create(kube::resources::certificaterequests, std::move(cr),
               [weak, ctx, done](caf::expected<json> res) {
                 auto self = weak.lock();
                 if (!self || self->stopped_)
                   return;
                 if (res || kube::is(res.error(), kube::errc::already_exists))
                   done(outcome::done); // its event continues
                 else
                   done(
                     self->outcome_of(res.error(), "create request", ctx->key));
               });
}

void engine::cert_complete(cert_ptr ctx, kube::object_ptr cr,
                           const pki::private_key& key, finish_fn done) {
  kube::certificate_request_view view{*cr};
  auto chain = view.certificate().value_or("");
  auto ca = view.ca().value_or("");
  auto leaf = pki::certificate::from_pem(chain);
  if (!leaf || !leaf->matches(key)) {
    cert_failed(ctx, cr,
                "the issued certificate does not match the private key",
                std::move(done));
    return;
  }
  auto secret = ctx->secret
                  ? *ctx->secret
                  : json{{"apiVersion", "v1"},
                         {"kind", "Secret"},
                         {"metadata",
                          {{"name", ctx->secret_name}, {"namespace", ctx->ns}}},
                         {"type", "kubernetes.io/tls"}};
  bool up_to_date = ctx->secret && secret_data(secret, "tls.crt") == chain
                    && secret_data(secret, "ca.crt").value_or("") == ca;
  if (up_to_date) {
    auto have = secret_data(secret, "tls.key");
    auto parsed
      = have ? pki::private_key::from_pem(*have)
             : caf::expected<pki::private_key>{pki::invalid("no tls.key")};
    up_to_date = parsed && leaf->matches(*parsed);
  }
  auto& data = secret["data"];
  if (!data.is_object())
    data = json::object();
  data["tls.crt"] = kube::base64_encode(chain);
  data["tls.key"] = kube::base64_encode(ctx->key_pem(key));
  if (!ca.empty())
    data["ca.crt"] = kube::base64_encode(ca);
  else
    data.erase("ca.crt");
  auto& meta = secret["metadata"];
  auto& annotations = meta["annotations"];
  if (!annotations.is_object())
    annotations = json::object();
  annotations["cert-manager.io/certificate-name"] = ctx->name;
  annotations["cert-manager.io/issuer-name"] = ctx->issuer.name;
  annotations["cert-manager.io/issuer-kind"] = ctx->issuer.kind;
  annotations["cert-manager.io/issuer-group"] = ctx->issuer.group;
  annotations["cert-manager.io/common-name"] = ctx->common_name;
  annotations["cert-manager.io/alt-names"] = join(ctx->dns);
  annotations["cert-manager.io/ip-sans"] = join(ctx->ips);
  annotations["cert-manager.io/uri-sans"] = join(ctx->uris);
  auto& labels = meta["labels"];
  if (!labels.is_object())
    labels = json::object();
  labels["controller.cert-manager.io/fao"] = "true";

  // The Certificate's status once the Secret is written.
  auto next = ctx->obj;
  auto& status = next["status"];
  if (!status.is_object())
    status = json::object();
  status["revision"] = ctx->revision + 1;
  status["notBefore"] = kube::format_time(leaf->not_before());
  status["notAfter"] = kube::format_time(leaf->not_after());
  auto renew
    = renewal_time(leaf->not_before(), leaf->not_after(), ctx->renew_before);
  status["renewalTime"] = kube::format_time(renew);
  status.erase("failedIssuanceAttempts");
  status.erase("lastFailureTime");
  status.erase("nextPrivateKeySecretName");
  remove_condition(next, "Issuing");
  set_condition(
    next,
    {"Ready", "True", "Ready", "Certificate is up to date and has not expired"},
    ctx->now, ctx->generation);

  std::weak_ptr<engine> weak = weak_from_this();
  auto write_cert_status = [weak, ctx, next, renew, done]() mutable {
    auto self = weak.lock();
    if (!self || self->stopped_)
      return;
    logging::info(*self->log_, "certificate issued",
                  {{"certificate", ctx->key},
                   {"secret", ctx->secret_name},
                   {"revision", std::to_string(ctx->revision + 1)}});
    self->write_status(kind::certificate, kube::resources::certificates,
                       std::move(next), [weak, ctx, renew, done](outcome o) {
                         auto self = weak.lock();
                         if (self && !self->stopped_ && o == outcome::done) {
                           if (ctx->key_secret) {
                             kube::object_ref kref{*ctx->key_secret};
                             self->remove_object(kube::resources::secrets,
                                                 ctx->ns, kref.name(),
                                                 kref.uid());
                           }
                           self->enqueue_at(kind::certificate, ctx->key, renew);
                         }
                         done(o);
                       });
  };
  if (up_to_date) {
    write_cert_status();
    return;
  }
  auto on_secret
    = [weak, ctx, done, write_cert_status](caf::expected<json> res) mutable {
        auto self = weak.lock();
        if (!self || self->stopped_)
          return;
        if (!res) {
          auto o = kube::is(res.error(), kube::errc::already_exists)
                     ? outcome::retry
                     : self->outcome_of(res.error(), "write Secret", ctx->key);
          // A conflict on the Secret: retry the whole reconcile on fresh state.
          done(o == outcome::conflict ? outcome::retry : o);
          return;
        }
        write_cert_status();
      };
  if (ctx->secret)
    cli_->update(kube::resources::secrets, std::move(secret),
                 std::move(on_secret));
  else
    cli_->create(kube::resources::secrets, std::move(secret),
                 std::move(on_secret));
}

void engine::cert_failed(cert_ptr ctx, kube::object_ptr cr, std::string message,
                         finish_fn done) {
  auto next = ctx->obj;
  auto sv = inspect(*ctx);
  set_readiness(*ctx, sv, next);
  auto& status = next["status"];
  auto attempts = status.value("failedIssuanceAttempts", int64_t{0}) + 1;
  status["failedIssuanceAttempts"] = attempts;
  status["lastFailureTime"] = kube::format_time(ctx->now);
  set_condition(next,
                {"Issuing", "False", "Failed",
                 "The certificate request has failed to complete and will be "
                 "retried: "
                   + message},
                ctx->now, ctx->generation);
  logging::warn(*log_, "certificate issuance failed",
                {{"certificate", ctx->key},
                 {"request", cr ? kube::object_ref{*cr}.name() : ""},
                 {"message", message}});
  auto retry_at = ctx->now + failure_backoff(attempts);
  std::weak_ptr<engine> weak = weak_from_this();
  write_status(kind::certificate, kube::resources::certificates,
               std::move(next), [weak, ctx, retry_at, done](outcome o) {
                 auto self = weak.lock();
                 if (self && !self->stopped_ && o == outcome::done)
                   self->enqueue_at(kind::certificate, ctx->key, retry_at);
                 done(o);
               });
}

void engine::cert_cleanup(const cert_context& ctx) {
  if (ctx.key_secret) {
    kube::object_ref kref{*ctx.key_secret};
    remove_object(kube::resources::secrets, ctx.ns, kref.name(), kref.uid());
  }
  if (!ctx.history_limit)
    return; // cert-manager keeps every request without a limit
  std::vector<std::pair<int64_t, kube::object_ptr>> revs;
  for (auto& cr : ctx.requests)
    if (auto r = revision_of(*cr))
      revs.emplace_back(*r, cr);
  std::sort(revs.begin(), revs.end(),
            [](auto& a, auto& b) { return a.first > b.first; });
  for (size_t i = static_cast<size_t>(*ctx.history_limit); i < revs.size();
       ++i) {
    kube::object_ref ref{*revs[i].second};
    remove_object(kube::resources::certificaterequests, ctx.ns, ref.name(),
                  ref.uid());
  }
}

void engine::remove_object(const kube::resource& res, const std::string& ns,
                           const std::string& name, const std::string& uid) {
  kube::delete_options opts;
  opts.uid = uid;
  std::weak_ptr<engine> weak = weak_from_this();
  auto what = std::string{res.plural} + " " + ns + "/" + name;
  cli_->remove(
    res, ns, name, std::move(opts), [weak, what](caf::expected<json> res) {
      auto self = weak.lock();
      if (!self || self->stopped_ || res
          || kube::is(res.error(), kube::errc::not_found)
          || kube::is(res.error(), kube::errc::conflict))
        return;
      logging::warn(
        *self->log_, "cannot delete",
        {{"object", what}, {"err", istio_csr::errors::describe(res.error())}});
    });
}

} // namespace istio_csr::devcluster::issuer
