#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "caf/actor_clock.hpp"

namespace istio_csr::actors::signing {

/// The `exp` claim of a JWT (seconds since the epoch), read from its payload
/// without verifying anything: it may only shorten how long a review is
/// reused. Nullopt when the token is not three dot-separated parts, the
/// payload is not base64url JSON, or `exp` is absent or not a number.
std::optional<std::chrono::system_clock::time_point>
jwt_expiry(std::string_view token);

/// Successful TokenReviews reused for the same token and audiences
/// (`--token-review-cache-ttl`, docs/security.md): an entry lives at most
/// `ttl` and never past the token's own `exp`; at most `capacity` entries,
/// the least recently used evicted first. Only successes go in (the caller
/// inserts after its checks passed). Entries are keyed by a SHA-256 of the
/// token and the audiences (`key_of`); the token itself is never kept.
///
/// One cache is shared by every csr-signer (and their later incarnations),
/// so a renewal that lands on another signer still hits: thread-safe (one
/// mutex; each call is a hash-map lookup). Time comes from the caller (the
/// actor clock, virtual under CAF's test coordinator); the token's `exp` is
/// compared with `wall_clock` (system_clock unless a test sets it).
class token_review_cache {
 public:
  using time_point = caf::actor_clock::time_point;
  using duration = caf::actor_clock::clock_type::duration;
  using wall_time = std::chrono::system_clock::time_point;
  using wall_clock_fn = std::function<wall_time()>;

  /// The default bound on entries.
  static constexpr std::size_t default_capacity = 4096;

  /// A cache keeping entries for `ttl` (zero or less: nothing is kept).
  explicit token_review_cache(duration ttl,
                              std::size_t capacity = default_capacity,
                              wall_clock_fn wall_clock = {});

  token_review_cache(const token_review_cache&) = delete;
  token_review_cache& operator=(const token_review_cache&) = delete;

  /// The key of `token` reviewed for `audiences`: SHA-256 (32 raw bytes)
  /// of both, each part length-prefixed.
  static std::string key_of(std::string_view token,
                            const std::vector<std::string>& audiences);

  /// The cached review `status` under `key`, if one is live at `now` (it
  /// becomes the most recently used); an expired entry is dropped.
  std::optional<nlohmann::json> find(const std::string& key, time_point now);

  /// Keeps `status` (the TokenReview's `status`: user, groups, extra) under
  /// `key` from `now` until `now + ttl`, or earlier when `token` carries an
  /// `exp` claim before that; a token already expired is not kept.
  void insert(const std::string& key, std::string_view token,
              nlohmann::json status, time_point now);

  /// Entries held (live or not yet dropped).
  std::size_t size() const;

  duration ttl() const noexcept {
    return ttl_;
  }

  std::size_t capacity() const noexcept {
    return capacity_;
  }

 private:
  struct entry {
    std::string key;
    nlohmann::json status;
    time_point expires;
  };

  const duration ttl_;
  const std::size_t capacity_;
  wall_clock_fn wall_clock_;
  mutable std::mutex mtx_;
  /// Most recently used first.
  std::list<entry> lru_;
  std::unordered_map<std::string, std::list<entry>::iterator> index_;
};

} // namespace istio_csr::actors::signing
