#include "grpc_bridge/tls/h2_inspector.hpp"

#include <algorithm>

namespace istio_csr::grpc_bridge {

namespace {

using h2::error_code;
using h2::frame_type;

std::string name_of(std::uint8_t type) {
  return std::string{h2::frame_type_name(type)};
}

h2_violation protocol(std::string what) {
  return h2_violation::of(error_code::protocol_error, std::move(what));
}

h2_violation frame_size(std::string what) {
  return h2_violation::of(error_code::frame_size_error, std::move(what));
}

h2_violation calm(std::string what) {
  return h2_violation::of(error_code::enhance_your_calm, std::move(what));
}

std::string rate_text(std::size_t burst, double rate) {
  auto per_second = std::to_string(rate);
  per_second.erase(per_second.find_last_not_of('0') + 1);
  if (per_second.back() == '.')
    per_second.pop_back();
  return std::to_string(burst) + " at once, then " + per_second + " per second";
}

} // namespace

h2_inspector::h2_inspector(const h2_limits& limits)
  : limits_(limits),
    rst_streams_(limits.rst_stream_burst, limits.rst_stream_rate),
    answered_frames_(limits.answered_frame_burst, limits.answered_frame_rate) {}

h2_inspection h2_inspector::feed(std::span<const std::byte> data,
                                 clock::time_point now) {
  std::copy_n(held_.begin(), held_len_, carry_.begin());
  carry_len_ = held_len_;
  carry_released_ = false;
  forward_ = 0;
  auto result = [&] {
    h2_inspection r;
    if (carry_released_)
      r.held = std::span<const std::byte>{carry_.data(), carry_len_};
    r.forward = forward_;
    r.violation = violation_;
    return r;
  };
  std::size_t pos = 0;
  while (pos < data.size() && stage_ != stage::failed) {
    switch (stage_) {
      case stage::preface: {
        // Matched bytes carry nothing: they go on at once.
        while (pos < data.size()
               && preface_matched_ < h2::client_preface.size()) {
          if (std::to_integer<char>(data[pos])
              != h2::client_preface[preface_matched_]) {
            forward_ = pos;
            violation_ = protocol("invalid client connection preface");
            stage_ = stage::failed;
            return result();
          }
          ++pos;
          ++preface_matched_;
        }
        forward_ = pos;
        if (preface_matched_ == h2::client_preface.size())
          stage_ = stage::header;
        break;
      }
      case stage::header: {
        auto n = std::min(h2::frame_header_size - held_len_, data.size() - pos);
        std::copy_n(data.begin() + pos, n, held_.begin() + held_len_);
        held_len_ += n;
        pos += n;
        if (held_len_ < h2::frame_header_size)
          break;
        if (auto v = judge_header(now)) {
          violation_ = std::move(v);
          stage_ = stage::failed;
          return result();
        }
        if (prefix_len_ > 0) {
          stage_ = stage::prefix;
          break;
        }
        release_held(pos);
        remaining_ = frame_.length;
        if (remaining_ == 0)
          end_frame();
        else
          stage_ = stage::payload;
        break;
      }
      case stage::prefix: {
        auto want = h2::frame_header_size + prefix_len_;
        auto n = std::min(want - held_len_, data.size() - pos);
        std::copy_n(data.begin() + pos, n, held_.begin() + held_len_);
        held_len_ += n;
        pos += n;
        if (held_len_ < want)
          break;
        if (auto v = judge_prefix()) {
          violation_ = std::move(v);
          stage_ = stage::failed;
          return result();
        }
        release_held(pos);
        remaining_ = frame_.length - static_cast<std::uint32_t>(prefix_len_);
        if (remaining_ == 0)
          end_frame();
        else
          stage_ = stage::payload;
        break;
      }
      case stage::payload: {
        auto n = std::min<std::size_t>(remaining_, data.size() - pos);
        pos += n;
        forward_ = pos;
        remaining_ -= static_cast<std::uint32_t>(n);
        if (remaining_ == 0)
          end_frame();
        break;
      }
      case stage::failed: break;
    }
  }
  return result();
}

void h2_inspector::server_frame(const h2::frame_header& header) {
  auto type = static_cast<frame_type>(header.type);
  bool ends = type == frame_type::rst_stream
              || ((type == frame_type::headers || type == frame_type::data)
                  && (header.flags & h2::flags::end_stream) != 0);
  if (ends) {
    open_.erase(header.stream_id);
    receiving_.erase(header.stream_id);
  }
}

void h2_inspector::release_held(std::size_t pos) {
  // Only the first frame of an input can have begun in an earlier one.
  if (carry_len_ > 0)
    carry_released_ = true;
  held_len_ = 0;
  forward_ = pos;
}

void h2_inspector::end_frame() {
  auto type = static_cast<frame_type>(frame_.type);
  if ((type == frame_type::headers || type == frame_type::continuation)
      && (frame_.flags & h2::flags::end_headers) != 0) {
    in_block_ = false;
    last_stream_id_ = std::max(last_stream_id_, block_stream_);
    if (block_ends_stream_)
      receiving_.erase(block_stream_);
  }
  // A request ends with the last byte of its END_STREAM frame: a client
  // that stops within that frame is still sending.
  if (type == frame_type::data && (frame_.flags & h2::flags::end_stream) != 0)
    receiving_.erase(frame_.stream_id);
  stage_ = stage::header;
}

h2_violation h2_inspector::refuse_block(std::string what) const {
  auto v = calm(std::move(what));
  v.refuse_stream = block_stream_;
  v.refusal = "request metadata exceeds "
              + std::to_string(limits_.max_header_block) + " bytes or "
              + std::to_string(limits_.max_continuations)
              + " CONTINUATION frames";
  return v;
}

std::optional<h2_violation> h2_inspector::add_fragment(std::size_t n) {
  block_size_ += n;
  if (block_size_ > limits_.max_header_block)
    return refuse_block("header block of stream "
                        + std::to_string(block_stream_) + " exceeds "
                        + std::to_string(limits_.max_header_block) + " bytes");
  return std::nullopt;
}

std::optional<h2_violation> h2_inspector::judge_header(clock::time_point now) {
  frame_ = h2::frame_header::decode(held_);
  prefix_len_ = 0;
  const auto& f = frame_;
  auto type = static_cast<frame_type>(f.type);
  auto name = name_of(f.type);
  if (f.length > limits_.max_frame_size)
    return frame_size(name + " frame of " + std::to_string(f.length)
                      + " bytes exceeds the max frame size "
                      + std::to_string(limits_.max_frame_size));
  if (first_frame_) {
    if (type != frame_type::settings || (f.flags & h2::flags::ack) != 0)
      return protocol("first frame is " + name + ", not SETTINGS");
  }
  if (in_block_
      && (type != frame_type::continuation || f.stream_id != block_stream_))
    return protocol("header block of stream " + std::to_string(block_stream_)
                    + " interrupted by " + name + " on stream "
                    + std::to_string(f.stream_id));
  switch (type) {
    case frame_type::data:
      if (f.stream_id == 0)
        return protocol("DATA on stream 0");
      break;
    case frame_type::headers: {
      if (f.stream_id == 0 || f.stream_id % 2 == 0)
        return protocol("HEADERS on stream " + std::to_string(f.stream_id)
                        + ", not a client stream");
      if ((f.flags & h2::flags::padded) != 0)
        prefix_len_ += 1;
      if ((f.flags & h2::flags::priority) != 0)
        prefix_len_ += 5;
      if (f.length < prefix_len_)
        return frame_size("HEADERS frame of " + std::to_string(f.length)
                          + " bytes too short for its padding and priority");
      if (f.stream_id > highest_opened_) {
        if (open_.size() >= limits_.max_open_streams)
          return calm("more than " + std::to_string(limits_.max_open_streams)
                      + " streams open at once");
        open_.insert(f.stream_id);
        receiving_.emplace(f.stream_id, now);
        highest_opened_ = f.stream_id;
      }
      in_block_ = true;
      block_ends_stream_ = (f.flags & h2::flags::end_stream) != 0;
      block_stream_ = f.stream_id;
      block_size_ = 0;
      continuations_ = 0;
      // With a prefix the fragment size is known once it has been read.
      if (prefix_len_ == 0)
        return add_fragment(f.length);
      break;
    }
    case frame_type::priority:
      if (f.length != 5)
        return frame_size("PRIORITY frame of " + std::to_string(f.length)
                          + " bytes");
      if (f.stream_id == 0)
        return protocol("PRIORITY on stream 0");
      break;
    case frame_type::rst_stream:
      if (f.length != 4)
        return frame_size("RST_STREAM frame of " + std::to_string(f.length)
                          + " bytes");
      if (f.stream_id == 0)
        return protocol("RST_STREAM on stream 0");
      if (!rst_streams_.try_take(now))
        return calm(
          "RST_STREAM flood: more than "
          + rate_text(limits_.rst_stream_burst, limits_.rst_stream_rate));
      open_.erase(f.stream_id);
      receiving_.erase(f.stream_id);
      break;
    case frame_type::settings:
      if (f.stream_id != 0)
        return protocol("SETTINGS on stream " + std::to_string(f.stream_id));
      if ((f.flags & h2::flags::ack) != 0) {
        if (f.length != 0)
          return frame_size("SETTINGS ACK with a payload");
      } else {
        if (f.length % 6 != 0)
          return frame_size("SETTINGS frame of " + std::to_string(f.length)
                            + " bytes");
        if (!answered_frames_.try_take(now))
          return calm("SETTINGS/PING flood: more than "
                      + rate_text(limits_.answered_frame_burst,
                                  limits_.answered_frame_rate));
      }
      first_frame_ = false;
      break;
    case frame_type::push_promise:
      return protocol("PUSH_PROMISE from a client");
    case frame_type::ping:
      if (f.length != 8)
        return frame_size("PING frame of " + std::to_string(f.length)
                          + " bytes");
      if (f.stream_id != 0)
        return protocol("PING on stream " + std::to_string(f.stream_id));
      if ((f.flags & h2::flags::ack) == 0 && !answered_frames_.try_take(now))
        return calm("SETTINGS/PING flood: more than "
                    + rate_text(limits_.answered_frame_burst,
                                limits_.answered_frame_rate));
      break;
    case frame_type::goaway:
      if (f.stream_id != 0)
        return protocol("GOAWAY on stream " + std::to_string(f.stream_id));
      if (f.length < 8)
        return frame_size("GOAWAY frame of " + std::to_string(f.length)
                          + " bytes");
      break;
    case frame_type::window_update:
      if (f.length != 4)
        return frame_size("WINDOW_UPDATE frame of " + std::to_string(f.length)
                          + " bytes");
      break;
    case frame_type::continuation:
      if (!in_block_)
        return protocol("CONTINUATION on stream " + std::to_string(f.stream_id)
                        + " without a header block in progress");
      if (++continuations_ > limits_.max_continuations)
        return refuse_block(
          "CONTINUATION flood: more than "
          + std::to_string(limits_.max_continuations)
          + " CONTINUATION frames in the header block of stream "
          + std::to_string(block_stream_));
      return add_fragment(f.length);
    default:
      // Extension frames are ignored by grpc (RFC 9113 §4.1).
      break;
  }
  return std::nullopt;
}

std::optional<h2_violation> h2_inspector::judge_prefix() {
  // Only HEADERS frames have a prefix: [pad length] [priority (5)].
  std::size_t pad = 0;
  if ((frame_.flags & h2::flags::padded) != 0)
    pad = std::to_integer<std::size_t>(held_[h2::frame_header_size]);
  auto rest = frame_.length - prefix_len_;
  if (pad > rest)
    return protocol("HEADERS padding of " + std::to_string(pad)
                    + " bytes exceeds the frame");
  return add_fragment(rest - pad);
}

} // namespace istio_csr::grpc_bridge
