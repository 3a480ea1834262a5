#pragma once

#include <cstdint>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "kube/client/resource.hpp"

namespace istio_csr::kube {

/// What a request does.
enum class verb : uint8_t {
  get,
  list,
  create,
  update, ///< PUT (optimistic concurrency through metadata.resourceVersion)
  patch,  ///< JSON merge patch
  remove, ///< DELETE
  watch,
};

std::string to_string(verb v);

/// Query parameters of list and watch.
struct list_options {
  /// Full label selector syntax (`a=b,c!=d,e in (f,g),!h`).
  std::string label_selector;
  /// Field selector (`metadata.name=x`).
  std::string field_selector;
  /// Page size; 0: no paging.
  int64_t limit = 0;
  std::string continue_token;
  /// List: "" (most recent, consistent), "0" (any, from the cache) or a
  /// version. Watch: where to start.
  std::string resource_version;
  /// `resourceVersionMatch` (`NotOlderThan`, `Exact`), empty when unset.
  std::string resource_version_match;
  /// Watch: ask the server to end the stream after this many seconds.
  std::optional<int> timeout_seconds;
  /// Watch: ask for BOOKMARK events.
  bool allow_watch_bookmarks = false;
};

/// Preconditions and options of a delete.
struct delete_options {
  /// Only delete if the object still has this uid / resourceVersion
  /// (409 Conflict otherwise).
  std::string uid;
  std::string resource_version;
  /// `Orphan`, `Background` or `Foreground`; empty: the server default.
  std::string propagation_policy;
  std::optional<int64_t> grace_period_seconds;
};

/// One API call. Build it with the static functions.
struct request {
  verb method = verb::get;
  resource res;
  std::string namespace_;
  std::string name;
  /// e.g. "status" or "token"; empty for the main resource.
  std::string subresource;
  /// The object (create, update) or the merge patch (patch).
  nlohmann::json body;
  list_options list;
  delete_options del;
  /// `fieldManager` query parameter for writes, when not empty.
  std::string field_manager;
  /// List only: follow `continue` tokens to the end and answer one list
  /// holding every item (the first page's resourceVersion).
  bool all_pages = false;
  /// When not empty, the URL path (and query) to use instead of the
  /// resource's, e.g. `/version` (see `raw`).
  std::string raw_path;
  /// Once stop is requested, the request is not sent any more: while it
  /// waits (for the rate limiter, a retry's backoff or its next page) it
  /// completes at once with `errc::cancelled` and is never written to the
  /// server; an attempt already sent completes as usual. Requesting actors
  /// bind their requests to a `cancel_scope` (cancel_scope.hpp).
  std::stop_token cancel;
  /// A create of a fixed `metadata.name` whose caller handles 409
  /// AlreadyExists (by reading the object back): then the create is
  /// repeated after failures that may have reached the server (5xx, a
  /// connection lost after sending), as an idempotent request is.
  bool repeatable_create = false;

  static request get(const resource& res, std::string namespace_,
                     std::string name);

  static request list_of(const resource& res, std::string namespace_,
                         list_options opts = {});

  /// Follows `continue` to the end (page size `opts.limit`, default 500).
  static request list_all(const resource& res, std::string namespace_,
                          list_options opts = {});

  /// Create `object` (with `metadata.name` or `metadata.generateName`).
  /// The namespace comes from `namespace_`, or `metadata.namespace` when
  /// empty.
  static request create(const resource& res, std::string namespace_,
                        nlohmann::json object);

  /// Create through a subresource, e.g. `serviceaccounts/SA/token`.
  static request create_subresource(const resource& res, std::string namespace_,
                                    std::string name, std::string subresource,
                                    nlohmann::json object);

  /// PUT `object`; it must carry `metadata.resourceVersion` for optimistic
  /// concurrency (a stale one answers `errc::conflict`).
  static request update(const resource& res, nlohmann::json object);

  /// PUT `object` to the `status` subresource.
  static request update_status(const resource& res, nlohmann::json object);

  /// JSON merge patch (RFC 7386).
  static request merge_patch(const resource& res, std::string namespace_,
                             std::string name, nlohmann::json patch,
                             std::string subresource = {});

  static request remove(const resource& res, std::string namespace_,
                        std::string name, delete_options opts = {});

  static request watch(const resource& res, std::string namespace_,
                       list_options opts = {});

  /// A request to a path outside the resource model (`/version`, an admin
  /// endpoint): `method` picks the HTTP method (get: GET, create: POST,
  /// update: PUT, patch: PATCH, remove: DELETE); `body` is sent as JSON
  /// unless null.
  static request raw(verb method, std::string path,
                     nlohmann::json body = nullptr);

  /// The HTTP method.
  std::string_view http_method() const;

  /// The URL path and query, without the server's path prefix.
  std::string target() const;

  /// The request body (JSON text), empty for GET/LIST/WATCH and a delete
  /// without options.
  std::string body_text() const;

  /// The Content-Type of the body.
  std::string_view content_type() const;

  /// Whether doing this twice is as good as doing it once (reads, watches,
  /// creates of virtual resources): the retry policy may then retry after
  /// the request may have reached the server.
  bool idempotent() const;
};

} // namespace istio_csr::kube
