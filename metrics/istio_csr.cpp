#include "metrics/istio_csr.hpp"

#include <cctype>
#include <mutex>
#include <string>
#include <unordered_map>

#include "metrics/buckets.hpp"
#include "metrics/family.hpp"

namespace istio_csr::metrics {

namespace {

counter cached(prometheus::Family<prometheus::Counter>& family,
               const char* label, std::string_view value) {
  static std::mutex mtx;
  static std::unordered_map<std::string, counter> cache;
  // One cache for every family: the key names the family too.
  std::string key
    = family.GetName() + '{' + label + '=' + std::string{value} + '}';
  std::lock_guard<std::mutex> guard{mtx};
  auto i = cache.find(key);
  if (i == cache.end())
    i = cache.emplace(key, detail::add(family, {{label, std::string{value}}}))
          .first;
  return i->second;
}

prometheus::Family<prometheus::Counter>& restarts_family() {
  static auto& f = detail::counter_family(
    "istio_csr_actor_restarts_total",
    "Restarts of supervised actors by their supervisor, by actor.");
  return f;
}

prometheus::Family<prometheus::Counter>& chaos_kills_family() {
  static auto& f = detail::counter_family(
    "istio_csr_chaos_kills_total",
    "Actors killed by chaos mode (--chaos-kill-interval), by actor.");
  return f;
}

prometheus::Family<prometheus::Counter>& handshake_family() {
  static auto& f = detail::counter_family(
    "istio_csr_tls_handshake_failures_total",
    "Connections to the gRPC port that failed before reaching the gRPC "
    "server (TLS handshake), by reason.");
  return f;
}

} // namespace

std::string_view actor_label(std::string_view name) noexcept {
  if (auto slash = name.find('/'); slash != std::string_view::npos)
    name = name.substr(0, slash);
  auto end = name.size();
  while (end > 0 && std::isdigit(static_cast<unsigned char>(name[end - 1])))
    --end;
  if (end < name.size() && end > 0 && name[end - 1] == '-')
    name = name.substr(0, end - 1);
  return name;
}

counter istio_csr_handles::actor_restarts(std::string_view actor) const {
  return cached(restarts_family(), "actor", actor_label(actor));
}

counter istio_csr_handles::chaos_kills(std::string_view actor) const {
  return cached(chaos_kills_family(), "actor", actor_label(actor));
}

counter
istio_csr_handles::tls_handshake_failures(std::string_view reason) const {
  return cached(handshake_family(), "reason", reason);
}

const istio_csr_handles& ours() {
  static const istio_csr_handles instance = [] {
    using namespace detail;
    istio_csr_handles h;
    h.requests_in_flight
      = add(gauge_family("istio_csr_requests_in_flight",
                         "CreateCertificate calls accepted and not answered "
                         "yet."));
    h.certificate_requests_waiting
      = add(gauge_family("istio_csr_certificate_requests_waiting",
                         "CertificateRequests created for callers that are not "
                         "final yet."));
    h.issuer_wait = add(
      histogram_family("istio_csr_issuer_wait_seconds",
                       "Time from creating a CertificateRequest to seeing it "
                       "final (issued, denied or failed)."),
      {}, buckets::issuer_wait_seconds);
    h.token_review
      = add(histogram_family("istio_csr_token_review_duration_seconds",
                             "Duration of TokenReview calls authenticating "
                             "callers."),
            {}, buckets::default_seconds);
    h.serving_certificate_expiry = add(gauge_family(
      "istio_csr_serving_certificate_expiry_timestamp_seconds",
      "Unix time at which the gRPC serving certificate expires (0: none "
      "yet)."));
    h.configmaps_repaired = add(
      counter_family("istio_csr_configmaps_repaired_total",
                     "istio-ca-root-cert ConfigMaps created or rewritten."));
    h.pod_index_pods = add(gauge_family("istio_csr_pod_index_pods",
                                        "Pods in the Ambient pod index (node "
                                        "authorization)."));
    restarts_family();
    chaos_kills_family();
    handshake_family();
    return h;
  }();
  return instance;
}

} // namespace istio_csr::metrics
