#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <unordered_set>

#include "grpc_bridge/tls/h2_frames.hpp"
#include "grpc_bridge/tls/token_bucket.hpp"

namespace istio_csr::grpc_bridge {

/// What the TLS front enforces on a client's HTTP/2 byte stream before grpc
/// sees it. grpc 1.51 (Debian 12) lacks the fixes for CVE-2023-33953
/// (CONTINUATION floods buffered and re-copied) and CVE-2023-44487 (rapid
/// reset); these are the limits patched servers (nghttp2, Go x/net, grpc)
/// apply. A connection that exceeds one gets a GOAWAY and is closed.
struct h2_limits {
  /// Largest frame payload accepted (FRAME_SIZE_ERROR beyond), within
  /// 16384..16777215. grpc advertises the same
  /// (`GRPC_ARG_HTTP2_MAX_FRAME_SIZE`, with BDP probing off: it would raise it
  /// to 4 MiB). 16384 is the HTTP/2 default and minimum, so every client
  /// respects it even before it reads our SETTINGS; requests here are a few
  /// KiB.
  std::uint32_t max_frame_size = h2::default_max_frame_size;

  /// Largest header block: the HPACK-encoded fragments of one HEADERS frame
  /// and its CONTINUATION frames, without padding and priority fields
  /// (ENHANCE_YOUR_CALM beyond). A request's metadata is a bearer token
  /// (1-2 KiB) and a few short headers. grpc advertises the same limit for
  /// decoded metadata (`server_settings::max_metadata_size`), and an encoded
  /// block is never larger than its decoded size, so clients within the
  /// advertised limit never reach this one. It is the limit that holds:
  /// grpc 1.51 applies its own to each frame of a block separately.
  std::size_t max_header_block = 16 * 1024;

  /// Streams open at once: opened by the client's HEADERS, until the server
  /// ends or resets them or the client resets them (ENHANCE_YOUR_CALM
  /// beyond). grpc advertises `server_settings::max_concurrent_streams`
  /// (32) but grpc 1.51 does not hold clients to it. Above it because the
  /// protocol's initial limit is unlimited: a client may open streams before
  /// it has read our SETTINGS (RFC 9113 recommends allowing at least 100).
  std::size_t max_open_streams = 100;

  /// CONTINUATION frames per header block (ENHANCE_YOUR_CALM beyond).
  /// nghttp2 allows 8; real clients send a 16 KiB block in at most one.
  std::size_t max_continuations = 8;

  /// RST_STREAM frames from the client: this many at once, then
  /// `rst_stream_rate` per second (ENHANCE_YOUR_CALM beyond). A client
  /// resets a stream when it cancels a call; istio-agent makes one call at
  /// a time, ztunnel up to 8. nghttp2 allows 1000 at once and 33/s.
  std::size_t rst_stream_burst = 100;
  double rst_stream_rate = 10;

  /// Frames that make the server answer (PING and SETTINGS without ACK):
  /// this many at once, then `answered_frame_rate` per second
  /// (ENHANCE_YOUR_CALM beyond). Clients send a SETTINGS or two per
  /// connection, a keepalive PING every 30 s (istio-agent) and at most one
  /// BDP PING per response. grpc's own ping strikes start over whenever it
  /// sends headers or data, and it does not limit SETTINGS at all.
  std::size_t answered_frame_burst = 500;
  double answered_frame_rate = 50;
};

/// Why a connection is closed.
struct h2_violation {
  /// The GOAWAY error code: ENHANCE_YOUR_CALM for floods, PROTOCOL_ERROR or
  /// FRAME_SIZE_ERROR for malformed framing.
  h2::error_code code = h2::error_code::protocol_error;
  /// What was violated, for the log: frame types, sizes and limits. Never
  /// header contents (they carry bearer tokens).
  std::string what;
  /// A stream whose request metadata broke a limit: it is answered
  /// RESOURCE_EXHAUSTED with `refusal` before the GOAWAY, so that its
  /// caller sees why (grpc never saw its whole header block, so it cannot
  /// have answered it). 0: none.
  std::uint32_t refuse_stream = 0;
  std::string refusal;

  /// A violation that refuses no stream.
  static h2_violation of(h2::error_code code, std::string what) {
    h2_violation v;
    v.code = code;
    v.what = std::move(what);
    return v;
  }
};

/// What may go on to grpc after one `h2_inspector::feed`: first `held`,
/// then the first `forward` bytes of the input.
struct h2_inspection {
  /// Bytes of earlier inputs held back until now (a frame header that
  /// straddled two inputs). Valid until the next `feed`.
  std::span<const std::byte> held;
  /// How many bytes at the start of the input follow `held`.
  std::size_t forward = 0;
  /// Set once the input contains a violation (and on every later call).
  std::optional<h2_violation> violation;
};

/// Inspects the client → server HTTP/2 byte stream of one connection: the
/// connection preface, then frame by frame, without buffering payloads. A
/// pure state machine without I/O: bytes go in as they arrive, in chunks of
/// any size, and come out once they are judged safe to give to grpc.
///
/// Frames are judged by their 9-byte header (and, for HEADERS, the padding
/// and priority fields that follow it), which are held back until complete;
/// payloads pass through as they arrive. What goes on is always a prefix of
/// the input, preceded by the held bytes of a frame that began in an earlier
/// input, so the caller forwards without copying. After a violation nothing
/// more is forwarded: the output ends with the last frame before the
/// offending one.
///
/// Not thread-safe (one per connection).
class h2_inspector {
 public:
  using clock = std::chrono::steady_clock;

  explicit h2_inspector(const h2_limits& limits);

  /// Inspects the next bytes from the client (`now` is their arrival, for
  /// the rate limits) and says which of them may go to grpc.
  h2_inspection feed(std::span<const std::byte> data, clock::time_point now);

  /// Notes a frame header grpc sent (see `h2_frame_tracker`): a server's
  /// END_STREAM or RST_STREAM closes a stream.
  void server_frame(const h2::frame_header& header);

  /// Streams open now.
  std::size_t open_streams() const noexcept {
    return open_.size();
  }

  /// The highest stream id whose header block was forwarded completely:
  /// grpc cannot have acted on any higher stream (GOAWAY's last-stream-id).
  std::uint32_t last_stream_id() const noexcept {
    return last_stream_id_;
  }

  /// Whether the client's connection preface and its first SETTINGS frame
  /// have arrived.
  bool preface_received() const noexcept {
    return !first_frame_;
  }

  /// Streams the client opened and has not finished sending its request on
  /// (no END_STREAM yet, not reset, not ended by the server).
  std::size_t receiving_streams() const noexcept {
    return receiving_.size();
  }

  /// When the client opened the oldest stream of `receiving_streams`: a
  /// request it has been sending the longest. None when there is none.
  std::optional<clock::time_point> oldest_request() const {
    if (receiving_.empty())
      return std::nullopt;
    return receiving_.begin()->second;
  }

  /// The stream id of `oldest_request` (0 when there is none).
  std::uint32_t oldest_request_stream() const noexcept {
    return receiving_.empty() ? 0 : receiving_.begin()->first;
  }

  /// Whether a violation was found.
  bool violated() const noexcept {
    return violation_.has_value();
  }

 private:
  enum class stage { preface, header, prefix, payload, failed };

  // Judges the frame header in `held_`; on success sets up what follows.
  std::optional<h2_violation> judge_header(clock::time_point now);

  // Judges the padding/priority fields of a HEADERS frame.
  std::optional<h2_violation> judge_prefix();

  // A violation by the header block in progress, which refuses its stream.
  h2_violation refuse_block(std::string what) const;

  // Adds a header block fragment; fails beyond the limit.
  std::optional<h2_violation> add_fragment(std::size_t n);

  // The current frame's payload has been forwarded completely.
  void end_frame();

  // The current frame was judged fine: its held bytes go on.
  void release_held(std::size_t pos);

  h2_limits limits_;
  token_bucket rst_streams_;
  token_bucket answered_frames_;
  stage stage_ = stage::preface;
  std::size_t preface_matched_ = 0;
  // The current frame's header plus, for HEADERS, up to 6 bytes of padding
  // length and priority fields.
  std::array<std::byte, h2::frame_header_size + 6> held_{};
  std::size_t held_len_ = 0;
  // Per feed: the held bytes it started with, whether they go on, and how
  // much of its input goes on.
  std::array<std::byte, h2::frame_header_size + 6> carry_{};
  std::size_t carry_len_ = 0;
  bool carry_released_ = false;
  std::size_t forward_ = 0;
  std::size_t prefix_len_ = 0;
  h2::frame_header frame_;
  std::uint32_t remaining_ = 0;
  bool first_frame_ = true;
  bool in_block_ = false;
  std::uint32_t block_stream_ = 0;
  std::size_t block_size_ = 0;
  std::size_t continuations_ = 0;
  std::uint32_t last_stream_id_ = 0;
  // Streams opened by the client and not closed yet; at most
  // `max_open_streams`.
  std::unordered_set<std::uint32_t> open_;
  // The streams of `open_` whose request the client is still sending, and
  // when it opened them. Ids only grow, and so do the times: the first
  // entry is the oldest.
  std::map<std::uint32_t, clock::time_point> receiving_;
  // Whether the header block in progress ends its stream (END_STREAM on
  // its HEADERS frame).
  bool block_ends_stream_ = false;
  std::uint32_t highest_opened_ = 0;
  std::optional<h2_violation> violation_;
};

} // namespace istio_csr::grpc_bridge
