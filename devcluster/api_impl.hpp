#pragma once

// Internal to the API layer: shared by api_server.cpp, api_objects.cpp,
// api_tokens.cpp and watch.cpp.

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "devcluster/api_error.hpp"
#include "devcluster/api_server.hpp"
#include "devcluster/auth.hpp"
#include "devcluster/discovery.hpp"
#include "devcluster/faults.hpp"
#include "devcluster/object_store.hpp"
#include "devcluster/resources.hpp"
#include "devcluster/tables.hpp"
#include "kube/api/label_selector.hpp"

namespace istio_csr::devcluster {

class watch_stream;

/// The representation a client asked for.
enum class media { json, table, metadata };

/// A parsed resource request.
struct request_ctx {
  const http_request* req = nullptr;
  user_info user;
  std::string verb; ///< Kubernetes verb: get, list, watch, create, ...
  const resource_type* type = nullptr;
  std::string ns;   ///< namespace from the URL ("" for none)
  std::string name; ///< object name from the URL
  std::string sub;  ///< subresource
  media out = media::json;
  include_object include = include_object::metadata;
  bool dry_run = false;

  const std::string& param(const std::string& key) const;
};

/// Label, field and name filter of a list or watch.
struct object_filter {
  const resource_type* type = nullptr;
  std::optional<std::string> name;
  kube::label_selector labels;
  kube::field_selector fields;

  bool empty() const {
    return !name && labels.empty() && fields.empty();
  }

  bool matches(const stored_object& o) const;
};

/// Value of a field-selector path in an object ("" if absent).
std::string field_value(const stored_object& o, const std::string& path);

template <class T>
using outcome = std::variant<T, api_error>;

struct api_impl {
  api_impl(boost::asio::io_context& ioc, api_config cfg,
           std::future<key_pair> sa_key);

  boost::asio::io_context& ioc;
  api_config cfg;
  resource_registry registry;
  object_store store;
  token_authority tokens;
  fault_injector faults;
  discovery disco;
  std::vector<table_builder> tables;
  std::set<watch_stream*> watches;
  /// Namespaces whose finalization is scheduled.
  std::set<std::string> pending_finalize;
  user_info admin;
  /// Garbage collection: dependents by owner uid, kept up to date by a
  /// listener on every type.
  struct object_key {
    size_t type = 0;
    std::string ns;
    std::string name;
    auto operator<=>(const object_key&) const = default;
  };
  std::map<std::string, std::set<object_key>> dependents;
  struct gc_listener final : change_listener {
    explicit gc_listener(api_impl& a) : api(a) {}
    void on_change(const change& c) override;
    api_impl& api;
  } gc{*this};
  void collect_dependents(const std::string& owner_uid);
  /// Keeps pending deferred work from running after destruction.
  std::shared_ptr<int> alive = std::make_shared<int>(0);

  // --- api_server.cpp: routing ---
  void handle(http_request req, std::function<void(api_result)> done);
  /// Whether answering `req` needs the service-account signing key.
  bool needs_signing_key(const http_request& req) const;
  api_result serve(const http_request& req, const user_info& user);
  outcome<user_info> authenticate(const http_request& req);
  api_result serve_resource(request_ctx& ctx);
  api_result serve_admin(const http_request& req, const user_info& user);
  std::optional<api_error> parse_resource_path(const http_request& req,
                                               request_ctx& ctx,
                                               bool& is_resource);
  /// Runs `f` after `delay` on the server thread (never after destruction).
  void defer(std::chrono::milliseconds delay, std::function<void()> f);

  // --- api_objects.cpp: object verbs ---
  api_result get(request_ctx& ctx);
  api_result list(request_ctx& ctx);
  api_result watch(request_ctx& ctx);
  api_result create(request_ctx& ctx);
  api_result update(request_ctx& ctx);
  api_result patch(request_ctx& ctx);
  api_result remove(request_ctx& ctx);
  api_result remove_collection(request_ctx& ctx);

  /// Creates an object; the body's namespace must match `ns`.
  outcome<object_ptr> create_object(const resource_type& t,
                                    const std::string& ns, nlohmann::json body,
                                    const user_info& user, bool dry_run);
  /// Updates `old` with `incoming` (a full object), as PUT would (or PUT
  /// .../status when `sub` is "status").
  outcome<object_ptr> update_object(const resource_type& t, object_ptr old,
                                    nlohmann::json incoming,
                                    const std::string& sub,
                                    const user_info& user, bool dry_run);
  /// Deletes (or marks for deletion when finalizers remain).
  outcome<object_ptr> delete_object(const resource_type& t, object_ptr old,
                                    const nlohmann::json& options, bool dry_run,
                                    bool& removed);

  /// Writes through the store and runs the follow-ups (namespace set-up,
  /// namespace finalization, garbage collection).
  object_ptr commit(const resource_type& t, nlohmann::json body);
  object_ptr commit_remove(const resource_type& t, const stored_object& o,
                           const nlohmann::json* final_body = nullptr);
  void after_namespace_created(const std::string& ns);
  void finalize_namespace(const std::string& ns);
  void schedule_namespace_finalize(const std::string& ns);
  /// The grace period a DELETE gives a pod (0: it goes at once).
  static int64_t pod_grace_seconds(const nlohmann::json& pod,
                                   const nlohmann::json& options);
  /// Removes the pod `uid` after its grace period, as its kubelet would.
  void schedule_pod_removal(const std::string& ns, const std::string& name,
                            const std::string& uid, std::chrono::seconds after);
  std::optional<api_error> check_namespace(const resource_type& t,
                                           const std::string& ns,
                                           const std::string& name);

  /// Type-specific defaults and validation ("admission").
  std::optional<api_error> admit(const resource_type& t, nlohmann::json& obj,
                                 const stored_object* old,
                                 const user_info& user);

  /// Response helpers.
  http_response object_response(const resource_type& t, const stored_object& o,
                                unsigned status, const request_ctx& ctx);

  // --- api_tokens.cpp ---
  api_result token_request(request_ctx& ctx);
  api_result token_review(request_ctx& ctx);
  /// SelfSubjectReview (who am I) and SelfSubjectAccessReview (always
  /// allowed: devcluster has no RBAC).
  api_result self_review(request_ctx& ctx);
  /// Checks that a verified token's service account and bound objects
  /// still exist; returns the error text otherwise.
  std::optional<std::string> check_token_objects(const token_claims& c);

  // --- watch.cpp ---
  /// The event line `{"type":T,"object":O}\n` of a JSON-format watch,
  /// shared between watchers of the same change.
  std::shared_ptr<const std::string>
  event_line(const resource_type& t, const char* type, const object_ptr& o);
  struct line_cache {
    object_ptr obj;
    const char* type = nullptr;
    std::shared_ptr<const std::string> line;
  } cache;
};

/// Decodes a request body (JSON, or Kubernetes protobuf for the kinds
/// kubectl's typed clients send) into a JSON object.
outcome<nlohmann::json> decode_body(const http_request& req);

/// Serializes JSON as a response body.
http_response json_response(unsigned status, const nlohmann::json& body);

} // namespace istio_csr::devcluster
