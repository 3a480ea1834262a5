#include "grpc_bridge/tls/h2_frame_tracker.hpp"

#include <algorithm>

namespace istio_csr::grpc_bridge {

std::size_t h2_frame_tracker::advance(std::span<const std::byte> data,
                                      bool stop_at_boundary,
                                      const header_handler* on_header) {
  std::size_t pos = 0;
  while (pos < data.size()) {
    if (remaining_ > 0) {
      auto n = std::min<std::size_t>(remaining_, data.size() - pos);
      remaining_ -= static_cast<std::uint32_t>(n);
      pos += n;
    } else {
      auto n = std::min(h2::frame_header_size - header_len_, data.size() - pos);
      std::copy_n(data.begin() + pos, n, header_.begin() + header_len_);
      header_len_ += n;
      pos += n;
      if (header_len_ == h2::frame_header_size) {
        auto header = h2::frame_header::decode(header_);
        remaining_ = header.length;
        header_len_ = 0;
        if (on_header != nullptr && *on_header)
          (*on_header)(header);
      }
    }
    if (stop_at_boundary && at_boundary())
      break;
  }
  consumed_ += pos;
  return pos;
}

void h2_frame_tracker::consume(std::span<const std::byte> data,
                               const header_handler& on_header) {
  advance(data, false, &on_header);
}

std::optional<std::size_t> h2_frame_tracker::next_boundary(
  std::span<const std::byte> data) const noexcept {
  if (at_boundary())
    return 0;
  auto copy = *this;
  auto n = copy.advance(data, true, nullptr);
  if (copy.at_boundary())
    return n;
  return std::nullopt;
}

} // namespace istio_csr::grpc_bridge
