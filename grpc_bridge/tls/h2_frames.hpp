#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace istio_csr::grpc_bridge::h2 {

/// The client connection preface (RFC 9113 §3.4), before the first SETTINGS.
inline constexpr std::string_view client_preface
  = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Every frame starts with a 9-byte header (RFC 9113 §4.1).
inline constexpr std::size_t frame_header_size = 9;

/// The initial (and smallest allowed) SETTINGS_MAX_FRAME_SIZE.
inline constexpr std::uint32_t default_max_frame_size = 16384;

/// Frame types (RFC 9113 §6).
enum class frame_type : std::uint8_t {
  data = 0x0,
  headers = 0x1,
  priority = 0x2,
  rst_stream = 0x3,
  settings = 0x4,
  push_promise = 0x5,
  ping = 0x6,
  goaway = 0x7,
  window_update = 0x8,
  continuation = 0x9,
};

/// Frame flags (RFC 9113 §6).
namespace flags {
inline constexpr std::uint8_t ack = 0x1;         ///< SETTINGS, PING
inline constexpr std::uint8_t end_stream = 0x1;  ///< DATA, HEADERS
inline constexpr std::uint8_t end_headers = 0x4; ///< HEADERS, CONTINUATION
inline constexpr std::uint8_t padded = 0x8;      ///< DATA, HEADERS
inline constexpr std::uint8_t priority = 0x20;   ///< HEADERS
} // namespace flags

/// Error codes of RST_STREAM and GOAWAY (RFC 9113 §7).
enum class error_code : std::uint32_t {
  no_error = 0x0,
  protocol_error = 0x1,
  frame_size_error = 0x6,
  enhance_your_calm = 0xb,
};

/// A decoded frame header.
struct frame_header {
  std::uint32_t length = 0;
  std::uint8_t type = 0;
  std::uint8_t flags = 0;
  /// Without the reserved bit.
  std::uint32_t stream_id = 0;

  /// Decodes the first `frame_header_size` bytes of `bytes`.
  static frame_header decode(std::span<const std::byte> bytes) noexcept;

  std::array<std::byte, frame_header_size> encode() const noexcept;
};

/// A GOAWAY frame: the header and its 8-byte payload, no debug data.
using goaway_frame = std::array<std::byte, frame_header_size + 8>;

goaway_frame make_goaway(std::uint32_t last_stream_id, error_code code);

/// A gRPC trailers-only response on `stream_id`: one HEADERS frame with
/// END_STREAM and END_HEADERS holding `:status: 200`, `content-type:
/// application/grpc`, `grpc-status: <grpc_status>` and `grpc-message:
/// <message>`. Encoded with HPACK's static `:status: 200` and literals
/// without indexing, so the client's dynamic table stays as grpc's encoder
/// left it. `message` must be printable ASCII without '%' (sent as is).
std::vector<std::byte> make_grpc_trailers_only(std::uint32_t stream_id,
                                               int grpc_status,
                                               std::string_view message);

/// An empty SETTINGS frame (the shortest valid server preface).
std::array<std::byte, frame_header_size> make_empty_settings();

/// The name of a frame type for log lines ("HEADERS"; "extension frame"
/// for types RFC 9113 does not define).
std::string_view frame_type_name(std::uint8_t type) noexcept;

} // namespace istio_csr::grpc_bridge::h2
