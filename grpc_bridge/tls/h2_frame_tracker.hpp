#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>

#include "grpc_bridge/tls/h2_frames.hpp"

namespace istio_csr::grpc_bridge {

/// Follows the frame boundaries of the server → client HTTP/2 byte stream
/// (frames from the first byte: the server's preface is a SETTINGS frame),
/// so that a frame of our own (GOAWAY) can go between two of grpc's frames
/// and never into the middle of one, and so that the inspector learns which
/// streams the server ended. Reads only the 9-byte headers.
class h2_frame_tracker {
 public:
  /// Receives each frame header as it completes.
  using header_handler = std::function<void(const h2::frame_header&)>;

  /// Notes that `data` was sent after the bytes consumed so far; calls
  /// `on_header` (if set) with every frame header completed by it.
  void consume(std::span<const std::byte> data,
               const header_handler& on_header = {});

  /// Whether the bytes consumed so far end at a frame boundary.
  bool at_boundary() const noexcept {
    return header_len_ == 0 && remaining_ == 0;
  }

  /// The length of the shortest prefix of `data` (the bytes that would
  /// follow) after which the stream is at a frame boundary: 0 when it is at
  /// one now, nullopt when `data` ends inside a frame.
  std::optional<std::size_t>
  next_boundary(std::span<const std::byte> data) const noexcept;

  /// Bytes consumed so far.
  std::uint64_t consumed() const noexcept {
    return consumed_;
  }

 private:
  // Advances over `data`, stopping early at the first frame boundary if
  // `stop_at_boundary`; returns the bytes advanced over.
  std::size_t advance(std::span<const std::byte> data, bool stop_at_boundary,
                      const header_handler* on_header);

  std::array<std::byte, h2::frame_header_size> header_{};
  std::size_t header_len_ = 0;
  std::uint32_t remaining_ = 0;
  std::uint64_t consumed_ = 0;
};

} // namespace istio_csr::grpc_bridge
