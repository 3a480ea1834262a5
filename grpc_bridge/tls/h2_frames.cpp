#include "grpc_bridge/tls/h2_frames.hpp"

namespace istio_csr::grpc_bridge::h2 {

namespace {

void put_u32(std::byte* out, std::uint32_t x) {
  out[0] = static_cast<std::byte>(x >> 24);
  out[1] = static_cast<std::byte>(x >> 16);
  out[2] = static_cast<std::byte>(x >> 8);
  out[3] = static_cast<std::byte>(x);
}

} // namespace

frame_header frame_header::decode(std::span<const std::byte> bytes) noexcept {
  auto u8
    = [&](std::size_t i) { return std::to_integer<std::uint32_t>(bytes[i]); };
  frame_header h;
  h.length = (u8(0) << 16) | (u8(1) << 8) | u8(2);
  h.type = static_cast<std::uint8_t>(u8(3));
  h.flags = static_cast<std::uint8_t>(u8(4));
  h.stream_id = ((u8(5) & 0x7f) << 24) | (u8(6) << 16) | (u8(7) << 8) | u8(8);
  return h;
}

std::array<std::byte, frame_header_size> frame_header::encode() const noexcept {
  std::array<std::byte, frame_header_size> out;
  out[0] = static_cast<std::byte>(length >> 16);
  out[1] = static_cast<std::byte>(length >> 8);
  out[2] = static_cast<std::byte>(length);
  out[3] = static_cast<std::byte>(type);
  out[4] = static_cast<std::byte>(flags);
  put_u32(out.data() + 5, stream_id & 0x7fffffff);
  return out;
}

goaway_frame make_goaway(std::uint32_t last_stream_id, error_code code) {
  goaway_frame out;
  frame_header h;
  h.length = 8;
  h.type = static_cast<std::uint8_t>(frame_type::goaway);
  auto head = h.encode();
  std::copy(head.begin(), head.end(), out.begin());
  put_u32(out.data() + frame_header_size, last_stream_id & 0x7fffffff);
  put_u32(out.data() + frame_header_size + 4, static_cast<std::uint32_t>(code));
  return out;
}

std::array<std::byte, frame_header_size> make_empty_settings() {
  frame_header h;
  h.type = static_cast<std::uint8_t>(frame_type::settings);
  return h.encode();
}

std::string_view frame_type_name(std::uint8_t type) noexcept {
  switch (static_cast<frame_type>(type)) {
    case frame_type::data: return "DATA";
    case frame_type::headers: return "HEADERS";
    case frame_type::priority: return "PRIORITY";
    case frame_type::rst_stream: return "RST_STREAM";
    case frame_type::settings: return "SETTINGS";
    case frame_type::push_promise: return "PUSH_PROMISE";
    case frame_type::ping: return "PING";
    case frame_type::goaway: return "GOAWAY";
    case frame_type::window_update: return "WINDOW_UPDATE";
    case frame_type::continuation: return "CONTINUATION";
  }
  return "extension frame";
}

} // namespace istio_csr::grpc_bridge::h2
