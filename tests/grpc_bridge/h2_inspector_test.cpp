#define CAF_SUITE grpc_bridge.h2_inspector

#include "caf/test/unit_test.hpp"

#include <algorithm>
#include <span>

#include "grpc_bridge/tls/h2_frame_tracker.hpp"
#include "grpc_bridge/tls/h2_frames.hpp"
#include "grpc_bridge/tls/h2_inspector.hpp"
#include "grpc_bridge/tls/token_bucket.hpp"
#include "tests/grpc_bridge/h2_client.hpp"

using namespace istio_csr;
using namespace istio_csr::test;
using grpc_bridge::h2_inspector;
using grpc_bridge::h2_limits;
using clock_type = std::chrono::steady_clock;

namespace {

const clock_type::time_point t0 = clock_type::now();

std::span<const std::byte> bytes_of(std::string_view s) {
  return std::as_bytes(std::span{s.data(), s.size()});
}

std::string text_of(std::span<const std::byte> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

struct outcome {
  std::string forwarded;
  std::optional<grpc_bridge::h2_violation> violation;
};

/// Feeds `input` cut at `cuts` (ascending offsets) and collects what the
/// inspector lets through.
outcome feed_cut(h2_inspector& insp, std::string_view input,
                 const std::vector<std::size_t>& cuts,
                 clock_type::time_point now = t0) {
  outcome out;
  std::size_t from = 0;
  auto piece = [&](std::size_t to) {
    auto chunk = input.substr(from, to - from);
    auto r = insp.feed(bytes_of(chunk), now);
    out.forwarded += text_of(r.held);
    out.forwarded += chunk.substr(0, r.forward);
    out.violation = r.violation;
    from = to;
  };
  for (auto cut : cuts)
    piece(cut);
  piece(input.size());
  return out;
}

/// Checks that `input` yields `expected` (and the violation code, if any)
/// however it is cut: whole, in two at every offset, byte by byte.
void check_every_split(std::string_view input, std::string_view expected,
                       std::optional<std::uint32_t> code = std::nullopt,
                       const h2_limits& limits = {}) {
  std::vector<std::vector<std::size_t>> cuttings;
  cuttings.push_back({});
  for (std::size_t k = 1; k < input.size(); ++k)
    cuttings.push_back({k});
  std::vector<std::size_t> every;
  for (std::size_t k = 1; k < input.size(); ++k)
    every.push_back(k);
  cuttings.push_back(every);
  std::size_t failures = 0;
  for (const auto& cuts : cuttings) {
    h2_inspector insp{limits};
    auto out = feed_cut(insp, input, cuts);
    bool ok
      = out.forwarded == expected
        && out.violation.has_value() == code.has_value()
        && (!code || static_cast<std::uint32_t>(out.violation->code) == *code);
    if (!ok && ++failures <= 3)
      CAF_MESSAGE("cut into " << cuts.size() + 1 << " pieces (first at "
                              << (cuts.empty() ? 0 : cuts.front())
                              << "): forwarded " << out.forwarded.size()
                              << " of " << expected.size() << " bytes, "
                              << (out.violation ? out.violation->what
                                                : std::string{"no violation"}));
  }
  CAF_CHECK_EQUAL(failures, 0u);
}

/// A HEADERS payload with padding and priority around `fragment`.
std::string padded_priority(std::string_view fragment, std::uint8_t pad) {
  std::string out(1, static_cast<char>(pad));
  out += std::string{"\x00\x00\x00\x03\x10", 5}; // depends on 3, weight 16
  out += fragment;
  out += std::string(pad, '\0');
  return out;
}

const std::string hello = h2::preface + h2::settings_frame({{0x3, 100}});

// Every kind of frame a client may legally send.
std::string legal_traffic() {
  auto block = h2::request_headers();
  std::string s = hello;
  s += h2::frame(h2::settings, h2::ack, 0);
  s += h2::frame(h2::window_update, 0, 0, std::string{"\x00\x01\x00\x00", 4});
  s += h2::frame(h2::headers, h2::end_headers, 1, block);
  s += h2::frame(h2::data, h2::end_stream, 1, h2::request_message("a"));
  s += h2::frame(h2::headers, h2::end_headers | h2::padded | h2::priority_flag,
                 3, padded_priority(block, 7));
  s += h2::frame(h2::data, h2::padded, 3, std::string{"\x02xy\0\0", 5});
  s += h2::frame(h2::data, h2::end_stream, 3, "");
  s += h2::frame(h2::headers, h2::priority_flag, 5,
                 padded_priority(block.substr(0, 20), 0).substr(1));
  s += h2::frame(h2::continuation, 0, 5, block.substr(20, 30));
  s += h2::frame(h2::continuation, h2::end_headers, 5, block.substr(50));
  s += h2::rst_stream_frame(5, h2::cancel);
  s += h2::frame(h2::priority, 0, 7, std::string{"\x00\x00\x00\x01\x20", 5});
  s += h2::ping_frame();
  s += h2::ping_frame(true);
  s += h2::frame(0xc8, 0x5, 0, "extension");
  s += h2::frame(h2::goaway, 0, 0, std::string(8, '\0') + "bye");
  return s;
}

} // namespace

CAF_TEST(a token bucket allows its burst then its rate) {
  grpc_bridge::token_bucket b{3, 2.0};
  for (int i = 0; i < 3; ++i)
    CAF_CHECK(b.try_take(t0));
  CAF_CHECK(!b.try_take(t0));
  CAF_CHECK(!b.try_take(t0 + 400ms));
  CAF_CHECK(b.try_take(t0 + 500ms));
  CAF_CHECK(!b.try_take(t0 + 500ms));
  // Never more than the burst, however long it rested.
  CAF_CHECK_EQUAL(b.available(t0 + 1h), 3.0);
  // Time going backwards changes nothing.
  CAF_CHECK_EQUAL(b.available(t0), 3.0);
  grpc_bridge::token_bucket once{1, 0.0};
  CAF_CHECK(once.try_take(t0));
  CAF_CHECK(!once.try_take(t0 + 1h));
}

CAF_TEST(legal traffic passes unchanged however it is cut) {
  auto input = legal_traffic();
  check_every_split(input, input);
  h2_inspector insp{h2_limits{}};
  auto out = feed_cut(insp, input, {});
  CAF_CHECK(!out.violation);
  CAF_CHECK(!insp.violated());
  CAF_CHECK_EQUAL(insp.last_stream_id(), 5u);
}

CAF_TEST(a held frame header is released ahead of the next input) {
  h2_inspector insp{h2_limits{}};
  auto ping = h2::ping_frame();
  auto r = insp.feed(bytes_of(hello + ping.substr(0, 4)), t0);
  CAF_CHECK(r.held.empty());
  CAF_CHECK_EQUAL(r.forward, hello.size());
  r = insp.feed(bytes_of(ping.substr(4, 3)), t0);
  CAF_CHECK(r.held.empty());
  CAF_CHECK_EQUAL(r.forward, 0u);
  auto rest = ping.substr(7) + h2::ping_frame().substr(0, 2);
  r = insp.feed(bytes_of(rest), t0);
  CAF_CHECK_EQUAL(text_of(r.held), ping.substr(0, 7));
  CAF_CHECK_EQUAL(r.forward, ping.size() - 7);
}

CAF_TEST(the preface must come first) {
  check_every_split("PRI * HTTP/1.1\r\n", "PRI * HTTP/", h2::protocol_error);
  check_every_split("GET / HTTP/1.1\r\n\r\n", "", h2::protocol_error);
  check_every_split(h2::preface + h2::ping_frame(), h2::preface,
                    h2::protocol_error);
  check_every_split(h2::preface + h2::frame(h2::settings, h2::ack, 0),
                    h2::preface, h2::protocol_error);
  // A partial preface is fine so far.
  check_every_split(h2::preface.substr(0, 10), h2::preface.substr(0, 10));
}

CAF_TEST(frame sizes are checked) {
  h2_limits limits;
  auto big = hello + h2::frame_header(16385, h2::data, 0, 1);
  check_every_split(big, hello, h2::frame_size_error);
  // Exactly the limit is fine.
  auto max = hello + h2::frame(h2::data, 0, 1, std::string(16384, 'd'));
  h2_inspector insp{limits};
  CAF_CHECK_EQUAL(feed_cut(insp, max, {100, 9000}).forwarded, max);
  for (auto bad :
       {h2::frame(h2::ping, 0, 0, "123456789"),
        h2::frame(h2::rst_stream, 0, 1, "123"),
        h2::frame(h2::window_update, 0, 1, "12345"),
        h2::frame(h2::priority, 0, 1, "1234"),
        h2::frame(h2::settings, 0, 0, "1234567"),
        h2::frame(h2::settings, h2::ack, 0, "123456"),
        h2::frame(h2::goaway, 0, 0, "1234"),
        h2::frame(h2::headers, h2::priority_flag, 1, "1234"),
        h2::frame(h2::headers, h2::padded | h2::priority_flag, 1, "12345")})
    check_every_split(hello + bad, hello, h2::frame_size_error);
}

CAF_TEST(streams are checked) {
  auto block = h2::request_headers();
  for (auto bad : {h2::frame(h2::data, 0, 0, "x"),
                   h2::frame(h2::headers, h2::end_headers, 0, block),
                   h2::frame(h2::headers, h2::end_headers, 2, block),
                   h2::rst_stream_frame(0, h2::cancel),
                   h2::frame(h2::priority, 0, 0, "12345"),
                   h2::frame(h2::settings, 0, 1, ""),
                   h2::frame(h2::ping, 0, 1, "12345678"),
                   h2::frame(h2::goaway, 0, 1, "12345678"),
                   h2::frame(h2::push_promise, h2::end_headers, 1, "1234")})
    check_every_split(hello + bad, hello, h2::protocol_error);
}

CAF_TEST(a header block may only be continued) {
  auto block = h2::request_headers();
  auto open = hello + h2::frame(h2::headers, 0, 1, block.substr(0, 30));
  for (auto bad : {h2::ping_frame(), h2::frame(h2::data, 0, 1, "x"),
                   h2::frame(h2::headers, h2::end_headers, 3, block),
                   h2::frame(h2::continuation, h2::end_headers, 3, "x"),
                   h2::frame(0xc8, 0, 0, "ext")})
    check_every_split(open + bad, open, h2::protocol_error);
  // Nor continued without a block in progress.
  auto done = hello + h2::frame(h2::headers, h2::end_headers, 1, block);
  check_every_split(done + h2::frame(h2::continuation, h2::end_headers, 1, ""),
                    done, h2::protocol_error);
}

CAF_TEST(padding must fit in its HEADERS frame) {
  std::string payload{"\x05"
                      "abcd",
                      5};
  check_every_split(hello + h2::frame(h2::headers, h2::padded, 1, payload),
                    hello, h2::protocol_error);
  // Padding that leaves an empty fragment is fine.
  std::string empty{"\x04"
                    "abcd",
                    5};
  auto ok = hello + h2::frame(h2::headers, h2::padded, 1, empty);
  check_every_split(ok, ok);
}

CAF_TEST(a header block is capped in size without its padding) {
  h2_limits limits;
  limits.max_frame_size = 65536;
  limits.max_header_block = 1000;
  auto fits = hello
              + h2::frame(h2::headers, h2::padded | h2::priority_flag, 1,
                          padded_priority(std::string(600, 'h'), 200))
              + h2::frame(h2::continuation, 0, 1, std::string(399, 'c'));
  auto last = h2::frame(h2::continuation, h2::end_headers, 1, "c");
  check_every_split(fits + last, fits + last, std::nullopt, limits);
  auto over = h2::frame(h2::continuation, h2::end_headers, 1, "cc");
  check_every_split(fits + over, fits, h2::enhance_your_calm, limits);
  // One HEADERS frame alone.
  check_every_split(
    hello + h2::frame(h2::headers, h2::end_headers, 1, std::string(1001, 'h')),
    hello, h2::enhance_your_calm, limits);
  // With padding the fragment is judged once the pad length is known.
  check_every_split(
    hello
      + h2::frame(h2::headers, h2::padded, 1,
                  std::string{"\x01", 1} + std::string(1001, 'h') + "p"),
    hello, h2::enhance_your_calm, limits);
  // The next block starts from zero.
  auto two
    = hello + h2::frame(h2::headers, h2::end_headers, 1, std::string(900, 'h'))
      + h2::frame(h2::headers, h2::end_headers, 3, std::string(900, 'h'));
  check_every_split(two, two, std::nullopt, limits);
}

CAF_TEST(a header block takes at most 8 CONTINUATION frames) {
  auto input = hello + h2::frame(h2::headers, 0, 1, "h");
  for (int i = 0; i < 8; ++i)
    input += h2::frame(h2::continuation, 0, 1, "");
  check_every_split(input, input);
  check_every_split(input + h2::frame(h2::continuation, h2::end_headers, 1, ""),
                    input, h2::enhance_your_calm);
}

CAF_TEST(RST_STREAM frames are rate limited) {
  h2_limits limits;
  limits.rst_stream_burst = 3;
  limits.rst_stream_rate = 10;
  std::string resets;
  for (std::uint32_t s = 1; s <= 7; s += 2)
    resets += h2::rst_stream_frame(s, h2::cancel);
  auto three = hello + resets.substr(0, 3 * 13);
  check_every_split(hello + resets, three, h2::enhance_your_calm, limits);
  // The bucket refills at the rate.
  h2_inspector insp{limits};
  auto first = feed_cut(insp, three, {}, t0);
  CAF_CHECK(!first.violation);
  auto next = h2::rst_stream_frame(9, h2::cancel);
  auto r = insp.feed(bytes_of(next), t0 + 100ms);
  CAF_CHECK(!r.violation);
  r = insp.feed(bytes_of(next), t0 + 150ms);
  CAF_REQUIRE(r.violation);
  CAF_CHECK(r.violation->code
            == grpc_bridge::h2::error_code::enhance_your_calm);
  CAF_CHECK(r.violation->what.find("RST_STREAM") != std::string::npos);
}

CAF_TEST(frames the server answers are rate limited but not their ACKs) {
  h2_limits limits;
  limits.answered_frame_burst = 4; // the client's first SETTINGS is one
  limits.answered_frame_rate = 1;
  auto acks = h2::ping_frame(true) + h2::frame(h2::settings, h2::ack, 0);
  std::string many_acks;
  for (int i = 0; i < 100; ++i)
    many_acks += acks;
  check_every_split(hello + many_acks, hello + many_acks, std::nullopt, limits);
  auto three = h2::ping_frame() + h2::settings_frame() + h2::ping_frame();
  check_every_split(hello + three + h2::settings_frame(), hello + three,
                    h2::enhance_your_calm, limits);
  check_every_split(hello + three + h2::ping_frame(), hello + three,
                    h2::enhance_your_calm, limits);
}

CAF_TEST(after a violation nothing more passes) {
  h2_inspector insp{h2_limits{}};
  auto bad = hello + h2::frame(h2::push_promise, 0, 1, "1234");
  auto first = feed_cut(insp, bad, {});
  CAF_REQUIRE(first.violation);
  CAF_CHECK(insp.violated());
  auto r = insp.feed(bytes_of(h2::ping_frame()), t0);
  CAF_CHECK(r.held.empty());
  CAF_CHECK_EQUAL(r.forward, 0u);
  CAF_REQUIRE(r.violation);
  CAF_CHECK_EQUAL(r.violation->what, first.violation->what);
}

CAF_TEST(the last stream id counts complete header blocks only) {
  h2_inspector insp{h2_limits{}};
  auto block = h2::request_headers();
  auto out = feed_cut(insp, hello + h2::frame(h2::headers, 0, 7, block), {});
  CAF_CHECK_EQUAL(insp.last_stream_id(), 0u);
  feed_cut(insp, h2::frame(h2::continuation, h2::end_headers, 7, ""), {});
  CAF_CHECK_EQUAL(insp.last_stream_id(), 7u);
  // Trailers of an older stream do not lower it.
  feed_cut(insp, h2::frame(h2::headers, h2::end_headers, 3, block), {});
  CAF_CHECK_EQUAL(insp.last_stream_id(), 7u);
  // The header of a frame is not the frame.
  feed_cut(insp,
           h2::frame(h2::headers, h2::end_headers, 9, block).substr(0, 20), {});
  CAF_CHECK_EQUAL(insp.last_stream_id(), 7u);
}

CAF_TEST(open streams are capped until the server or the client ends them) {
  h2_limits limits;
  limits.max_open_streams = 3;
  auto block = h2::request_headers();
  auto open = [&](std::uint32_t s) {
    return h2::frame(h2::headers, h2::end_headers, s, block);
  };
  auto three = hello + open(1) + open(3) + open(5);
  check_every_split(three + open(7), three, h2::enhance_your_calm, limits);
  h2_inspector insp{limits};
  CAF_CHECK(!feed_cut(insp, three, {}).violation);
  CAF_CHECK_EQUAL(insp.open_streams(), 3u);
  // Trailers on an open stream open nothing.
  CAF_CHECK(!feed_cut(insp, open(3), {}).violation);
  // The server ends stream 1 (END_STREAM), resets stream 3; data without
  // END_STREAM ends nothing.
  using grpc_bridge::h2::frame_header;
  insp.server_frame(frame_header{0, 0x0, 0, 5});
  insp.server_frame(frame_header{0, 0x1, 0x5, 1});
  insp.server_frame(frame_header{4, 0x3, 0, 3});
  CAF_CHECK_EQUAL(insp.open_streams(), 1u);
  CAF_CHECK(!feed_cut(insp, open(7) + open(9), {}).violation);
  // The client's own RST_STREAM ends a stream too.
  CAF_CHECK(!feed_cut(insp, h2::rst_stream_frame(9, h2::cancel) + open(11), {})
               .violation);
  CAF_CHECK_EQUAL(insp.open_streams(), 3u);
  auto r = feed_cut(insp, open(13), {});
  CAF_REQUIRE(r.violation);
  CAF_CHECK(r.violation->what.find("streams open") != std::string::npos);
}

CAF_TEST(requests are followed until the client ends them) {
  using namespace std::chrono_literals;
  auto block = h2::request_headers();
  auto message = h2::request_message("a");
  h2_inspector insp{h2_limits{}};
  // Nothing to wait for before the preface: the deadline is the caller's.
  CAF_CHECK(!insp.preface_received());
  CAF_CHECK(!feed_cut(insp, h2::preface, {}).violation);
  CAF_CHECK(!insp.preface_received());
  CAF_CHECK(!feed_cut(insp, h2::settings_frame(), {}).violation);
  CAF_CHECK(insp.preface_received());
  CAF_CHECK(!insp.oldest_request());
  // Stream 1 opens at t0 and stream 3 later; neither has ended.
  feed_cut(insp, h2::frame(h2::headers, h2::end_headers, 1, block), {}, t0);
  feed_cut(insp, h2::frame(h2::headers, h2::end_headers, 3, block), {},
           t0 + 1s);
  CAF_CHECK_EQUAL(insp.receiving_streams(), 2u);
  CAF_CHECK(insp.oldest_request() == t0);
  CAF_CHECK_EQUAL(insp.oldest_request_stream(), 1u);
  // A DATA frame ends stream 1 only with its last byte.
  auto end1 = h2::frame(h2::data, h2::end_stream, 1, message);
  feed_cut(insp, std::string_view{end1}.substr(0, end1.size() - 1), {});
  CAF_CHECK_EQUAL(insp.receiving_streams(), 2u);
  feed_cut(insp, std::string_view{end1}.substr(end1.size() - 1), {});
  CAF_CHECK_EQUAL(insp.receiving_streams(), 1u);
  CAF_CHECK(insp.oldest_request() == t0 + 1s);
  CAF_CHECK_EQUAL(insp.oldest_request_stream(), 3u);
  // DATA without END_STREAM ends nothing; the client's reset does.
  feed_cut(insp, h2::frame(h2::data, 0, 3, message), {});
  CAF_CHECK_EQUAL(insp.receiving_streams(), 1u);
  feed_cut(insp, h2::rst_stream_frame(3, h2::cancel), {});
  CAF_CHECK_EQUAL(insp.receiving_streams(), 0u);
  // END_STREAM on HEADERS ends the request at the end of its header block.
  feed_cut(insp, h2::frame(h2::headers, h2::end_stream, 5, block.substr(0, 10)),
           {});
  CAF_CHECK_EQUAL(insp.receiving_streams(), 1u);
  feed_cut(insp,
           h2::frame(h2::continuation, h2::end_headers, 5, block.substr(10)),
           {});
  CAF_CHECK_EQUAL(insp.receiving_streams(), 0u);
  // The server ending a stream ends the wait for its request.
  feed_cut(insp, h2::frame(h2::headers, h2::end_headers, 7, block), {});
  CAF_CHECK_EQUAL(insp.receiving_streams(), 1u);
  using grpc_bridge::h2::frame_header;
  insp.server_frame(frame_header{0, 0x1, 0x5, 7});
  CAF_CHECK_EQUAL(insp.receiving_streams(), 0u);
  CAF_CHECK(!insp.oldest_request());
  CAF_CHECK(!insp.violated());
}

CAF_TEST(the frame tracker reports the frame headers grpc sends) {
  auto frames = h2::settings_frame() + h2::frame(h2::data, 0x1, 3, "abc")
                + h2::rst_stream_frame(5, h2::cancel);
  for (std::size_t k = 0; k <= frames.size(); ++k) {
    grpc_bridge::h2_frame_tracker t;
    std::vector<std::uint32_t> streams;
    auto note = [&](const grpc_bridge::h2::frame_header& h) {
      streams.push_back(h.stream_id);
    };
    t.consume(bytes_of(std::string_view{frames}.substr(0, k)), note);
    t.consume(bytes_of(std::string_view{frames}.substr(k)), note);
    CAF_CHECK_EQUAL(streams, (std::vector<std::uint32_t>{0, 3, 5}));
  }
}

CAF_TEST(the frame tracker finds grpc frame boundaries) {
  auto frames = h2::settings_frame({{0x3, 100}}) + h2::ping_frame(true)
                + h2::frame(h2::data, 0, 1, std::string(100, 'd'))
                + h2::frame(h2::headers, h2::end_headers, 1, "");
  std::vector<std::size_t> ends;
  for (std::size_t pos = 0; pos < frames.size();) {
    auto len
      = (static_cast<std::size_t>(static_cast<unsigned char>(frames[pos]))
         << 16)
        | (static_cast<std::size_t>(static_cast<unsigned char>(frames[pos + 1]))
           << 8)
        | static_cast<unsigned char>(frames[pos + 2]);
    pos += 9 + len;
    ends.push_back(pos);
  }
  // Consumed in two pieces cut anywhere, the next boundary is found.
  for (std::size_t k = 0; k <= frames.size(); ++k) {
    grpc_bridge::h2_frame_tracker t;
    t.consume(bytes_of(std::string_view{frames}.substr(0, k)));
    bool boundary
      = k == 0 || std::find(ends.begin(), ends.end(), k) != ends.end();
    CAF_CHECK_EQUAL(t.at_boundary(), boundary);
    auto rest = bytes_of(std::string_view{frames}.substr(k));
    auto next = t.next_boundary(rest);
    CAF_REQUIRE(next);
    auto expected
      = boundary ? k : *std::upper_bound(ends.begin(), ends.end(), k);
    CAF_CHECK_EQUAL(k + *next, expected);
    // Looking ahead does not move the tracker.
    CAF_CHECK_EQUAL(t.consumed(), k);
    if (!boundary)
      CAF_CHECK(!t.next_boundary(rest.first(*next - 1)));
  }
}

CAF_TEST(GOAWAY and SETTINGS frames are encoded as RFC 9113 says) {
  auto g = grpc_bridge::h2::make_goaway(
    0x01020304, grpc_bridge::h2::error_code::enhance_your_calm);
  CAF_CHECK_EQUAL(text_of(g), h2::frame(h2::goaway, 0, 0,
                                        std::string{"\x01\x02\x03\x04"
                                                    "\x00\x00\x00\x0b",
                                                    8}));
  CAF_CHECK_EQUAL(text_of(grpc_bridge::h2::make_empty_settings()),
                  h2::frame(h2::settings, 0, 0, ""));
  // A trailers-only response: ":status: 200" from the static table, the
  // rest literals without indexing (RFC 7541 §6.2.2), one with a length
  // beyond the 7-bit prefix.
  std::string message(200, 'm');
  auto t = grpc_bridge::h2::make_grpc_trailers_only(7, 8, message);
  CAF_CHECK_EQUAL(
    text_of(t),
    h2::frame(h2::headers, h2::end_stream | h2::end_headers, 7,
              "\x88" + h2::hpack_literal("content-type", "application/grpc")
                + h2::hpack_literal("grpc-status", "8")
                + h2::hpack_literal("grpc-message", message)));
}

CAF_TEST(metadata beyond a limit refuses its stream) {
  h2_limits limits;
  limits.max_header_block = 1000;
  limits.max_continuations = 2;
  auto cont = [](std::uint8_t flags) {
    return h2::frame(h2::continuation, flags, 3, "c");
  };
  for (const auto& input :
       {hello + h2::frame(h2::headers, 0, 3, std::string(1001, 'h')),
        hello + h2::frame(h2::headers, 0, 3, "h") + cont(0) + cont(0)
          + cont(h2::end_headers)}) {
    h2_inspector insp{limits};
    auto out = feed_cut(insp, input, {});
    CAF_REQUIRE(out.violation);
    CAF_CHECK_EQUAL(out.violation->refuse_stream, 3u);
    CAF_CHECK_EQUAL(out.violation->refusal,
                    "request metadata exceeds 1000 bytes or 2 CONTINUATION "
                    "frames");
  }
  // Other violations refuse no stream.
  h2_inspector insp{limits};
  auto out = feed_cut(insp, hello + h2::frame(h2::push_promise, 0, 3, ""), {});
  CAF_REQUIRE(out.violation);
  CAF_CHECK_EQUAL(out.violation->refuse_stream, 0u);
}
