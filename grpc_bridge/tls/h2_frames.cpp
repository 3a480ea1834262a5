#include "grpc_bridge/tls/h2_frames.hpp"

#include <algorithm>
#include <string>

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

namespace {

// An HPACK integer with a 7-bit prefix (RFC 7541 §5.1), the pattern bits 0.
void put_hpack_length(std::vector<std::byte>& out, std::size_t n) {
  if (n < 127) {
    out.push_back(static_cast<std::byte>(n));
    return;
  }
  out.push_back(std::byte{127});
  n -= 127;
  while (n >= 128) {
    out.push_back(static_cast<std::byte>((n & 0x7f) | 0x80));
    n >>= 7;
  }
  out.push_back(static_cast<std::byte>(n));
}

// A literal header field without indexing, new name (RFC 7541 §6.2.2).
void put_literal(std::vector<std::byte>& out, std::string_view name,
                 std::string_view value) {
  out.push_back(std::byte{0});
  for (auto part : {name, value}) {
    put_hpack_length(out, part.size());
    for (char c : part)
      out.push_back(static_cast<std::byte>(c));
  }
}

} // namespace

std::vector<std::byte> make_grpc_trailers_only(std::uint32_t stream_id,
                                               int grpc_status,
                                               std::string_view message) {
  std::vector<std::byte> block;
  block.push_back(std::byte{0x88}); // static table entry 8, ":status: 200"
  put_literal(block, "content-type", "application/grpc");
  put_literal(block, "grpc-status", std::to_string(grpc_status));
  put_literal(block, "grpc-message", message);
  frame_header h;
  h.length = static_cast<std::uint32_t>(block.size());
  h.type = static_cast<std::uint8_t>(frame_type::headers);
  h.flags = flags::end_stream | flags::end_headers;
  h.stream_id = stream_id;
  auto head = h.encode();
  // The block is written after the header in place (inserting into a vector
  // made from the 9-byte header trips GCC 12's -Warray-bounds at -O2).
  std::vector<std::byte> out(head.size() + block.size());
  std::copy(head.begin(), head.end(), out.begin());
  std::copy(block.begin(), block.end(),
            out.begin() + static_cast<std::ptrdiff_t>(head.size()));
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
