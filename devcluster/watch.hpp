#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "devcluster/api_impl.hpp"

namespace istio_csr::devcluster {

/// What a watch asks for.
struct watch_params {
  const resource_type* type = nullptr;
  std::string ns; ///< "" for all namespaces
  object_filter filter;
  media format = media::json;
  include_object include = include_object::metadata;
  bool bookmarks = false;
  std::optional<std::chrono::seconds> timeout;
  enum class start_mode {
    current_state,  ///< ADDED for every current object, then changes
    since,          ///< changes after `since` (ERROR 410 if too old)
    initial_events, ///< like current_state, then an initial-events-end
                    ///< BOOKMARK (sendInitialEvents=true)
  };
  start_mode mode = start_mode::current_state;
  uint64_t since = 0;
};

/// One watch: a chunked stream of newline-delimited JSON events.
class watch_stream final : public stream_source, public change_listener {
 public:
  watch_stream(api_impl& api, watch_params p);
  ~watch_stream() override;

  http_response header() const override;
  void start(stream_sink& sink) override;
  void on_change(const change& c) override;

  /// Ends the stream cleanly (timeout, faults, admin request).
  void end();

 private:
  struct timers;
  void handle(const change& c);
  void emit(const char* type, const object_ptr& obj, bool shareable);
  void emit_raw(std::string line);
  void emit_bookmark(bool initial_events_end);
  void schedule_bookmark();
  void flush();

  api_impl& api_;
  watch_params p_;
  stream_sink* sink_ = nullptr;
  bool subscribed_ = false;
  bool ended_ = false;
  bool batching_ = false;
  std::string batch_;
  int64_t events_sent_ = 0;
  std::chrono::steady_clock::time_point deadline_;
  std::unique_ptr<timers> timers_;
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

} // namespace istio_csr::devcluster
