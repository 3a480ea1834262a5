// The client's HTTP/2 byte stream as the TLS front inspects it before grpc
// sees any of it (`h2_inspector`: preface, frame headers, header blocks,
// stream and flood limits), arriving in chunks of any size. What goes on to
// grpc must always be the client's bytes in order, a prefix of the stream,
// and nothing more once a violation was found.
//
// Input: a settings byte (bits 0-5: chunk size 1 to 63, 0: everything at
// once; bit 6: the stream starts with the client preface, written by the
// target; bit 7: after each chunk the server ends the highest stream
// forwarded, as a grpc answer does), a byte of milliseconds between
// chunks, then the stream.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "fuzz/fuzz_input.hpp"
#include "grpc_bridge/tls/h2_frames.hpp"
#include "grpc_bridge/tls/h2_inspector.hpp"

using namespace istio_csr;
using grpc_bridge::h2_inspector;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  auto in = fuzz::text(data, size);
  auto settings = fuzz::take_byte(in);
  auto step = std::chrono::milliseconds{fuzz::take_byte(in)};
  std::string stream;
  if ((settings & 0x40) != 0)
    stream = grpc_bridge::h2::client_preface;
  stream += in;
  std::size_t chunk = settings & 0x3f;
  if (chunk == 0)
    chunk = std::max<std::size_t>(stream.size(), 1);
  bool server_ends = (settings & 0x80) != 0;

  grpc_bridge::h2_limits limits;
  // Small limits, so that inputs of a few KiB reach them.
  limits.max_header_block = 512;
  limits.max_open_streams = 4;
  limits.max_continuations = 3;
  limits.rst_stream_burst = 4;
  limits.answered_frame_burst = 8;
  h2_inspector inspector{limits};
  auto now = h2_inspector::clock::time_point{} + std::chrono::hours{1};
  std::string forwarded;
  bool violated = false;
  for (std::size_t pos = 0; pos < stream.size(); pos += chunk) {
    auto piece = std::string_view{stream}.substr(pos, chunk);
    // Its own heap block, so that ASan sees any read past it.
    std::string copy{piece};
    auto bytes = std::as_bytes(std::span{copy.data(), copy.size()});
    auto r = inspector.feed(bytes, now);
    fuzz::require(r.forward <= bytes.size(), "forwards only what came in");
    if (violated)
      fuzz::require(r.held.empty() && r.forward == 0 && r.violation,
                    "nothing goes on after a violation");
    for (auto b : r.held)
      forwarded += std::to_integer<char>(b);
    forwarded.append(copy.data(), r.forward);
    fuzz::require(forwarded.size() <= pos + piece.size()
                    && std::string_view{stream}.starts_with(forwarded),
                  "what goes on is a prefix of the stream");
    violated = r.violation.has_value();
    fuzz::require(violated == inspector.violated(),
                  "the inspection says what the inspector knows");
    fuzz::require(inspector.open_streams() <= limits.max_open_streams,
                  "open streams stay within the limit");
    fuzz::require(inspector.receiving_streams() <= inspector.open_streams(),
                  "requests being sent are on open streams");
    fuzz::require(inspector.oldest_request().has_value()
                    == (inspector.receiving_streams() > 0),
                  "the oldest request is known while one is being sent");
    if (server_ends && inspector.last_stream_id() != 0) {
      grpc_bridge::h2::frame_header end;
      end.type
        = static_cast<std::uint8_t>(grpc_bridge::h2::frame_type::headers);
      end.flags = grpc_bridge::h2::flags::end_stream
                  | grpc_bridge::h2::flags::end_headers;
      end.stream_id = inspector.last_stream_id();
      inspector.server_frame(end);
    }
    now += step;
  }
  return 0;
}
