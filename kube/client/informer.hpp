#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "kube/client/informer_cache.hpp"
#include "kube/client/resource.hpp"

namespace istio_csr::kube {

class client;

/// What an informer watches and how.
struct informer_options {
  resource res;
  /// Empty: all namespaces (or a cluster-scoped resource).
  std::string namespace_;
  std::string label_selector;
  std::string field_selector;
  /// Applied to every object before it is cached and delivered, e.g.
  /// `strip_pod` to keep a 50,000-pod index small. The key and the
  /// resourceVersion are read before the transform.
  std::function<nlohmann::json(nlohmann::json)> transform;
  /// Page size of the (re-)lists.
  int64_t page_size = 500;
  /// Each watch asks for `timeoutSeconds` in [min, 2 * min).
  std::chrono::seconds min_watch_timeout{300};
  /// Backoff after failed lists and watches (doubling, with jitter).
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{30000};
  /// For logs, e.g. "namespaces".
  std::string name;
};

/// Receives the informer's notifications on the client's thread; must not
/// block.
using informer_handler = std::function<void(const informer_event&)>;

/// List-then-watch with a local cache (client-go's reflector + store).
///
/// Events go to the handler: `added`/`updated`/`deleted` with old and new
/// objects, and `synced` once after the first complete list. When a watch
/// ends or drops, it resumes from the last resourceVersion seen (bookmarks
/// included). When the server no longer has that version (ERROR 410, or HTTP
/// 410) it lists again and emits the difference against its cache, so a
/// subscriber misses no change and sees no phantom one.
///
/// The cache may be read from any thread.
class informer : public std::enable_shared_from_this<informer> {
 public:
  /// A consistent copy of the cache with the sequence number of the last
  /// event applied to it.
  struct snapshot {
    uint64_t sequence = 0;
    bool synced = false;
    std::vector<object_ptr> objects;
  };

  struct stats {
    uint64_t lists = 0;
    uint64_t relists_after_gone = 0;
    uint64_t watches = 0;
    uint64_t watch_errors = 0;
  };

  /// Creates a stopped informer.
  static std::shared_ptr<informer> make(std::shared_ptr<client> c,
                                        informer_options opts,
                                        informer_handler handler);

  ~informer();

  /// Starts listing and watching (any thread).
  void start();

  /// Stops. On the client's thread, no handler call follows; from another
  /// thread, one already running may finish. A list page that waits in the
  /// client (rate limiter, retry backoff) is not sent (`request::cancel`).
  void stop();

  /// Whether the first list has completed.
  bool synced() const;

  /// Whether `stop` was called.
  bool stopped() const noexcept;

  /// The cached object `namespace_/name`, or nullptr.
  object_ptr get(std::string_view namespace_, std::string_view name) const;

  /// Every cached object, sorted by key.
  std::vector<object_ptr> list() const;

  size_t size() const;

  snapshot take_snapshot() const;

  /// The resourceVersion the next watch resumes from.
  std::string resource_version() const;

  stats get_stats() const;

  const informer_options& options() const noexcept;

  /// Implementation detail.
  struct impl;

 private:
  explicit informer(std::shared_ptr<impl> ptr);
  std::shared_ptr<impl> impl_;
};

} // namespace istio_csr::kube
