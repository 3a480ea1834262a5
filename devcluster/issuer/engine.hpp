#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "caf/expected.hpp"

#include "devcluster/issuer/issuers.hpp"
#include "kube/client/informer.hpp"

namespace spdlog {
class logger;
} // namespace spdlog

namespace istio_csr::kube {
class client;
struct resource;
} // namespace istio_csr::kube

namespace istio_csr::pki {
class private_key;
} // namespace istio_csr::pki

namespace istio_csr::devcluster::issuer {

class key_worker;

/// The cert-manager controllers (issuers, CertificateRequests, Certificates)
/// as one reconciler running entirely on the Kubernetes client's Asio thread:
/// informer notifications, API completions and timers all arrive there, so
/// the state below needs no locks and behaves like an actor's. Work is keyed
/// (`kind`, `namespace/name`) in a queue that coalesces repeated triggers,
/// never reconciles one key twice at the same time, backs off on API errors
/// and retries 409 conflicts on freshly read state.
class engine : public std::enable_shared_from_this<engine> {
 public:
  engine(std::shared_ptr<kube::client> cli, key_worker& worker);
  ~engine();

  /// Creates and starts the informers (any thread).
  void start();

  /// Stops everything; call on the client's thread. No callback does
  /// anything afterwards.
  void shutdown();

  // Implementation details below (split over several .cpp files).

  enum class kind : uint8_t { request, certificate, issuer, cluster_issuer };
  using item = std::pair<kind, std::string>;

  /// How a reconcile ended.
  enum class outcome {
    done,     ///< nothing left to do until the next event
    retry,    ///< an API error: again after a backoff
    conflict, ///< 409: again on a freshly read object
  };
  using finish_fn = std::function<void(outcome)>;
  using result_fn = std::function<void(caf::expected<nlohmann::json>)>;
  /// What a Certificate reconcile works on (certificate_controller.cpp).
  struct cert_context;

 private:
  // -- queue ------------------------------------------------------------------
  void enqueue(kind k, const std::string& key);
  void enqueue_after(kind k, const std::string& key,
                     std::chrono::milliseconds delay);
  void enqueue_at(kind k, const std::string& key,
                  std::chrono::system_clock::time_point when);
  void drain();
  void run(const item& it, const nlohmann::json* fresh);
  void finish(const item& it, outcome o);
  bool all_synced() const;
  void forget(const item& it);
  /// Called after a successful write of an object that had `old_rv`: the
  /// cache still holding that version is known to be stale.
  void wrote(kind k, const std::string& key, const std::string& old_rv);

  // -- events -----------------------------------------------------------------
  void on_namespaced_issuer(const kube::informer_event& ev);
  void on_cluster_issuer(const kube::informer_event& ev);
  void on_issuer_event(const kube::informer_event& ev, bool cluster);
  void on_secret_event(const kube::informer_event& ev);
  void on_request_event(const kube::informer_event& ev);
  void on_certificate_event(const kube::informer_event& ev);
  void enqueue_all_if_synced();
  void enqueue_requests_of(std::string_view issuer_kind,
                           std::string_view namespace_, std::string_view name);

  // -- lookups ----------------------------------------------------------------
  kube::object_ptr secret(std::string_view ns, std::string_view name);
  secret_lookup secrets();
  /// The evaluated issuer a request names, null when it does not exist.
  /// Evaluated again only when the issuer or its CA Secret changed (parsing
  /// the CA's key and certificates is the dearest part of signing).
  std::shared_ptr<const evaluated_issuer>
  find_issuer(std::string_view kind, std::string_view namespace_,
              std::string_view name);

  // -- reconcilers ------------------------------------------------------------
  void reconcile_issuer(const nlohmann::json& obj, bool cluster,
                        finish_fn done);
  void reconcile_request(const nlohmann::json& obj, finish_fn done);
  void reconcile_certificate(const nlohmann::json& obj, finish_fn done);

  // Certificate helpers (certificate_controller.cpp).
  using cert_ptr = std::shared_ptr<cert_context>;
  void cert_not_issuing(cert_ptr ctx, finish_fn done);
  void cert_issuing(cert_ptr ctx, finish_fn done);
  void cert_complete(cert_ptr ctx, kube::object_ptr cr,
                     const pki::private_key& key, finish_fn done);
  void cert_failed(cert_ptr ctx, kube::object_ptr cr, std::string message,
                   finish_fn done);
  void cert_new_key(cert_ptr ctx, finish_fn done);
  void cert_store_key(const cert_context& ctx, const pki::private_key& key);
  void cert_create_request(cert_ptr ctx, const pki::private_key& key,
                           finish_fn done);
  void cert_cleanup(const cert_context& ctx);
  /// Deletes an object (if it still has `uid`), logging failures.
  void remove_object(const kube::resource& res, const std::string& ns,
                     const std::string& name, const std::string& uid);

  // -- API helpers ------------------------------------------------------------
  void write_status(kind k, const kube::resource& res, nlohmann::json obj,
                    finish_fn done);
  /// Maps an API answer of a write to an outcome (logging failures).
  outcome outcome_of(const caf::error& err, std::string_view what,
                     const std::string& key);

  std::shared_ptr<kube::client> cli_;
  key_worker& worker_;
  std::shared_ptr<spdlog::logger> log_;
  bool stopped_ = false;

  std::shared_ptr<kube::informer> issuers_;
  std::shared_ptr<kube::informer> cluster_issuers_;
  std::shared_ptr<kube::informer> requests_;
  std::shared_ptr<kube::informer> certificates_;
  std::shared_ptr<kube::informer> secrets_;

  std::set<item> queued_;
  std::set<item> busy_;
  std::set<item> dirty_;
  bool drain_posted_ = false;
  /// Consecutive failures per key (backoff).
  std::map<item, int> failures_;
  /// resourceVersion of a cached object we have since overwritten.
  std::map<item, std::string> stale_rv_;
  /// Pending timers per key: the earliest due time.
  std::map<item, std::chrono::system_clock::time_point> timers_;
  /// `delay` behaviour: request uids whose delay is running / has elapsed.
  std::set<std::string> delay_started_;
  std::set<std::string> delay_elapsed_;
  /// Request uids we wrote a final status for (never sign twice).
  std::set<std::string> finished_requests_;
  /// The last evaluation of each issuer (kind, namespace/name) and the
  /// cached objects it was made from: the informers replace an object on
  /// every change, so holding them makes pointer equality mean "unchanged".
  struct issuer_memo {
    kube::object_ptr issuer;
    kube::object_ptr secret;
    std::shared_ptr<const evaluated_issuer> evaluated;
  };
  std::map<std::pair<bool, std::string>, issuer_memo> issuer_memos_;
  /// Certificate uids whose next private key is being generated or created
  /// (until the informer shows the Secret).
  std::set<std::string> generating_;
};

} // namespace istio_csr::devcluster::issuer
