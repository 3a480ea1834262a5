#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "caf/error.hpp"

namespace istio_csr::kube {

/// The `type` of a watch event.
enum class watch_event_type : uint8_t {
  added,
  modified,
  deleted,
  bookmark,
  error
};

std::string to_string(watch_event_type t);

/// One event of a watch stream.
struct watch_event {
  watch_event_type type = watch_event_type::added;
  /// The object (for BOOKMARK only `kind`, `apiVersion` and
  /// `metadata.resourceVersion`; for ERROR a `Status`).
  nlohmann::json object;
};

/// Decodes a watch stream incrementally: bytes go in as they arrive (split
/// anywhere, chunked framing already removed), whole events come out. Events
/// are JSON objects, normally one per line; the decoder does not depend on
/// the newlines, it finds object boundaries itself (strings and escapes
/// included), so it also accepts concatenated objects.
class watch_decoder {
 public:
  /// Largest single event accepted (a broken server must not make us buffer
  /// without bound). etcd limits objects to 1.5 MiB.
  static constexpr size_t max_event_size = 64 * 1024 * 1024;

  /// Appends the events completed by `bytes` to `out`. Returns a
  /// `decode_error` on malformed input; the decoder is unusable afterwards.
  caf::error feed(std::string_view bytes, std::vector<watch_event>& out);

  /// Call at the end of the stream: an error if an event was cut off.
  caf::error finish() const;

  /// Bytes of an incomplete event held back.
  size_t buffered() const noexcept {
    return buf_.size();
  }

 private:
  caf::error emit(std::string_view text, std::vector<watch_event>& out);

  std::string buf_; // bytes of the current incomplete object
  size_t scan_ = 0; // how far buf_ has been scanned
  int depth_ = 0;   // brace/bracket depth at scan_
  bool in_string_ = false;
  bool escaped_ = false;
  bool failed_ = false;
};

} // namespace istio_csr::kube
