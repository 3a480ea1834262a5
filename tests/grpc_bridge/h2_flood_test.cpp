#define CAF_SUITE grpc_bridge.h2_floods

#include "tests/grpc_bridge/fixture.hpp"

#include <cmath>
#include <future>
#include <thread>

#include "logging/logging.hpp"
#include "tests/support/check_case.hpp"

using namespace istio_csr;
using namespace istio_csr::test;

namespace {

/// A well-behaved client calling in a loop on its own connection while an
/// attack runs.
class good_client {
 public:
  explicit good_client(bridge_fixture& f) : channel_(f.channel()) {
    worker_ = std::async(std::launch::async, [this] {
      while (!stop_) {
        auto res = create_certificate(*channel_, "good");
        if (res.status.ok())
          ++ok_;
        else
          ++failed_;
      }
    });
  }

  ~good_client() {
    stop_ = true;
    worker_.wait();
  }

  /// Waits until at least `n` calls succeeded.
  bool wait_ok(int n) {
    return wait_until([&] { return ok_ >= n; }, 20s);
  }

  /// Stops calling; returns the number of failed calls.
  int finish() {
    stop_ = true;
    worker_.wait();
    return failed_;
  }

  int ok() const {
    return ok_;
  }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::atomic<bool> stop_{false};
  std::atomic<int> ok_{0};
  std::atomic<int> failed_{0};
  std::future<void> worker_;
};

/// Sends `unit` again and again until `limit` bytes are out or the
/// connection ends; returns the bytes sent.
std::size_t flood(h2::raw_client& c, const std::string& unit,
                  std::size_t limit) {
  std::size_t total = 0;
  while (total < limit) {
    auto n = c.send(unit, 10s);
    total += n;
    if (n < unit.size())
      break;
  }
  return total;
}

/// The start of every attack: preface and SETTINGS.
const std::string hello = h2::preface + h2::settings_frame();

/// Calls of the handler whose CSR is `csr`.
std::size_t calls_with(const recording_handler& h, const std::string& csr) {
  std::size_t n = 0;
  for (const auto& c : h.all())
    if (c->request.csr_pem == csr)
      ++n;
  return n;
}

/// Collects the log lines while alive.
class log_capture {
 public:
  log_capture() {
    logging::set_writer_for_testing([this](std::string_view line) {
      std::lock_guard<std::mutex> guard{mtx_};
      lines_.emplace_back(line);
    });
  }

  ~log_capture() {
    logging::set_writer_for_testing({});
  }

  std::vector<std::string> matching(const std::string& needle) const {
    std::lock_guard<std::mutex> guard{mtx_};
    std::vector<std::string> out;
    for (const auto& line : lines_)
      if (line.find(needle) != std::string::npos)
        out.push_back(line);
    return out;
  }

 private:
  mutable std::mutex mtx_;
  std::vector<std::string> lines_;
};

constexpr std::size_t KiB = 1024;
constexpr std::size_t MiB = 1024 * KiB;

} // namespace

CAF_TEST_FIXTURE_SCOPE(h2_flood_tests, bridge_fixture)

// CVE-2023-33953 class: grpc 1.51 buffers (and re-copies) a header block
// until END_HEADERS, however long.
CAF_TEST(a CONTINUATION flood is cut off with a GOAWAY) {
  start();
  good_client good{*this};
  CAF_REQUIRE(good.wait_ok(1));
  auto rss_before = self_rss_bytes();
  auto cpu_before = self_cpu_time();
  auto c = raw_client();
  CAF_REQUIRE(c->connected());
  // A request whose last header value is announced as 1 GiB and follows in
  // CONTINUATION frames that never end the block.
  auto block = h2::request_headers() + std::string(1, '\0')
               + h2::hpack_int(7, 7) + "x-flood" + h2::hpack_int(1u << 30, 7);
  auto start = hello + h2::frame(h2::headers, 0, 1, block);
  CAF_REQUIRE_EQUAL(c->send(start), start.size());
  auto unit = h2::frame(h2::continuation, 0, 1, std::string(16 * KiB, 'a'));
  auto sent = flood(*c, unit, 64 * MiB);
  CAF_CHECK(c->wait_closed(10s));
  auto stats = srv->transport_stats();
  auto rss_after = self_rss_bytes();
  CAF_MESSAGE("CONTINUATION flood: "
              << sent << " bytes sent, " << stats.bytes_in << " decrypted; RSS "
              << rss_before / KiB << " -> " << rss_after / KiB << " KiB; CPU "
              << (self_cpu_time() - cpu_before).count() / 1000 << " ms");
  auto goaway = c->goaway();
  CAF_REQUIRE(goaway);
  CAF_CHECK_EQUAL(goaway->error_code, h2::enhance_your_calm);
  // The request's header block never completed.
  CAF_CHECK_EQUAL(goaway->last_stream_id, 0u);
  // The server stopped reading at the violation: it decrypted the header
  // block up to its cap (16 KiB) and at most one more read; the client could
  // only fill the socket buffers (and the bounded drain) before the close.
  CAF_CHECK_LESS(stats.bytes_in, 64 * KiB);
  CAF_CHECK_LESS(sent, 16 * MiB);
  CAF_CHECK_EQUAL(stats.h2_violations, 1u);
  CAF_CHECK_LESS(rss_after, rss_before + 64 * MiB);
  // Calls on other connections went on meanwhile.
  auto before = good.ok();
  CAF_CHECK(good.wait_ok(before + 1));
  CAF_CHECK_EQUAL(good.finish(), 0);
}

CAF_TEST(more than 8 CONTINUATION frames in one block get a GOAWAY) {
  start();
  auto c = raw_client();
  CAF_REQUIRE(c->connected());
  auto block = h2::request_headers();
  auto start = hello + h2::frame(h2::headers, 0, 1, block.substr(0, 10));
  for (int i = 0; i < 8; ++i)
    start += h2::frame(h2::continuation, 0, 1, block.substr(10 + i, 1));
  CAF_REQUIRE_EQUAL(c->send(start), start.size());
  // Still fine: 8 CONTINUATION frames; the 9th is one too many.
  CAF_CHECK(!c->wait_closed(200ms));
  c->send(h2::frame(h2::continuation, 0, 1, block.substr(18, 1)));
  CAF_CHECK(c->wait_closed(10s));
  auto goaway = c->goaway();
  CAF_REQUIRE(goaway);
  CAF_CHECK_EQUAL(goaway->error_code, h2::enhance_your_calm);
  CAF_CHECK_EQUAL(srv->transport_stats().h2_violations, 1u);
}

// CVE-2023-44487 class: streams opened and reset at once never count
// against max_concurrent_streams, so grpc 1.51 starts calls without bound.
CAF_TEST(rapid reset gets a GOAWAY ENHANCE_YOUR_CALM after the burst) {
  start();
  good_client good{*this};
  CAF_REQUIRE(good.wait_ok(1));
  auto limits = default_settings().transport.h2;
  auto rss_before = self_rss_bytes();
  auto cpu_before = self_cpu_time();
  auto t0 = std::chrono::steady_clock::now();
  auto c = raw_client();
  CAF_REQUIRE(c->connected());
  CAF_REQUIRE_EQUAL(c->send(hello), hello.size());
  auto block = h2::request_headers();
  auto message = h2::request_message("rapid");
  std::string pair_of_frames; // measured once for the bound below
  std::uint32_t stream = 1;
  std::size_t pairs = 0;
  while (pairs < 100000 && !c->closed()) {
    std::string batch;
    for (int i = 0; i < 50; ++i, stream += 2) {
      pair_of_frames = h2::frame(h2::headers, h2::end_headers, stream, block)
                       + h2::frame(h2::data, h2::end_stream, stream, message)
                       + h2::rst_stream_frame(stream, h2::cancel);
      batch += pair_of_frames;
    }
    if (c->send(batch) < batch.size())
      break;
    pairs += 50;
  }
  CAF_CHECK(c->wait_closed(10s));
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - t0;
  auto stats = srv->transport_stats();
  auto rss_after = self_rss_bytes();
  CAF_MESSAGE("rapid reset: "
              << pairs << " pairs sent, " << stats.bytes_in
              << " bytes decrypted, " << calls_with(*handler, "rapid")
              << " calls; RSS " << rss_before / KiB << " -> " << rss_after / KiB
              << " KiB; CPU " << (self_cpu_time() - cpu_before).count() / 1000
              << " ms in " << took.count() << " s");
  auto goaway = c->goaway();
  CAF_REQUIRE(goaway);
  CAF_CHECK_EQUAL(goaway->error_code, h2::enhance_your_calm);
  // The burst, what the bucket refilled meanwhile, and the stream whose
  // RST_STREAM was one too many.
  auto allowed = limits.rst_stream_burst
                 + static_cast<std::size_t>(
                   std::ceil(took.count() * limits.rst_stream_rate))
                 + 1;
  CAF_CHECK_LESS_OR_EQUAL(goaway->last_stream_id, 2 * allowed - 1);
  CAF_CHECK_LESS_OR_EQUAL(calls_with(*handler, "rapid"), allowed);
  // What the server read: those pairs and at most one more read.
  CAF_CHECK_LESS_OR_EQUAL(stats.bytes_in,
                          allowed * pair_of_frames.size() + 32 * KiB);
  CAF_CHECK_LESS(rss_after, rss_before + 64 * MiB);
  auto before = good.ok();
  CAF_CHECK(good.wait_ok(before + 1));
  CAF_CHECK_EQUAL(good.finish(), 0);
}

// grpc 1.51 advertises max_concurrent_streams but does not hold clients to
// it: each stream beyond is one more call of the handler.
CAF_TEST(streams beyond the open stream limit get a GOAWAY) {
  start();
  handler->auto_answer = false;
  auto limit = default_settings().transport.h2.max_open_streams;
  auto c = raw_client();
  CAF_REQUIRE(c->connected());
  std::string calls = hello;
  for (std::uint32_t s = 1; s <= 2 * limit * 2; s += 2)
    calls
      += h2::frame(h2::headers, h2::end_headers, s, h2::request_headers())
         + h2::frame(h2::data, h2::end_stream, s, h2::request_message("many"));
  c->send(calls);
  CAF_CHECK(c->wait_closed(10s));
  auto goaway = c->goaway();
  CAF_REQUIRE(goaway);
  CAF_CHECK_EQUAL(goaway->error_code, h2::enhance_your_calm);
  CAF_CHECK_EQUAL(goaway->last_stream_id, 2 * limit - 1);
  CAF_CHECK_LESS_OR_EQUAL(handler->count(), limit);
}

// grpc limits PINGs only by its ping strikes (switched off here, as when
// calls keep resetting the strikes), and SETTINGS not at all.
CAF_TEST(PING and SETTINGS floods get a GOAWAY ENHANCE_YOUR_CALM) {
  auto settings = default_settings();
  settings.min_recv_ping_interval = 0ms;
  settings.max_ping_strikes = 0;
  start(settings);
  auto burst = settings.transport.h2.answered_frame_burst;
  for (auto unit : {h2::ping_frame(), h2::settings_frame()}) {
    auto bytes_before = srv->transport_stats().bytes_in;
    auto c = raw_client();
    CAF_REQUIRE(c->connected());
    CAF_REQUIRE_EQUAL(c->send(hello), hello.size());
    std::string batch;
    for (int i = 0; i < 100; ++i)
      batch += unit;
    flood(*c, batch, 100000 * unit.size());
    CAF_CHECK(c->wait_closed(10s));
    auto goaway = c->goaway();
    CAF_REQUIRE(goaway);
    CAF_CHECK_EQUAL(goaway->error_code, h2::enhance_your_calm);
    // What the server read: the burst and at most one more read (16 KiB).
    CAF_CHECK_LESS(srv->transport_stats().bytes_in - bytes_before,
                   burst * unit.size() + 32 * KiB);
  }
  CAF_CHECK_EQUAL(srv->transport_stats().h2_violations, 2u);
  auto ch = channel();
  CAF_CHECK(create_certificate(*ch, "after").status.ok());
}

CAF_TEST(malformed framing gets a GOAWAY with the matching error code) {
  start();
  auto block = h2::request_headers();
  struct attack {
    std::string name;
    std::string bytes;
    std::uint32_t code;
  };
  std::vector<attack> attacks{
    {"frame larger than the max frame size",
     hello + h2::frame_header(16385, h2::data, 0, 1), h2::frame_size_error},
    {"PING of 9 bytes", hello + h2::frame(h2::ping, 0, 0, "123456789"),
     h2::frame_size_error},
    {"header block interrupted",
     hello + h2::frame(h2::headers, 0, 1, block) + h2::ping_frame(),
     h2::protocol_error},
    {"CONTINUATION on another stream",
     hello + h2::frame(h2::headers, 0, 1, block)
       + h2::frame(h2::continuation, h2::end_headers, 3, ""),
     h2::protocol_error},
    {"CONTINUATION without HEADERS",
     hello + h2::frame(h2::continuation, h2::end_headers, 1, block),
     h2::protocol_error},
    {"first frame not SETTINGS", h2::preface + h2::ping_frame(),
     h2::protocol_error},
    {"not HTTP/2", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", h2::protocol_error},
  };
  for (const auto& a : attacks) {
    CAF_MESSAGE(a.name);
    auto c = raw_client();
    CAF_REQUIRE(c->connected());
    c->send(a.bytes);
    CAF_CHECK(c->wait_closed(10s));
    auto goaway = c->goaway();
    CAF_REQUIRE(goaway);
    CAF_CHECK_EQUAL(goaway->error_code, a.code);
    CAF_CHECK_EQUAL(goaway->last_stream_id, 0u);
  }
  CAF_CHECK_EQUAL(srv->transport_stats().h2_violations, attacks.size());
}

CAF_TEST(the GOAWAY names the last stream whose headers grpc saw) {
  start();
  auto c = raw_client();
  CAF_REQUIRE(c->connected());
  auto call
    = hello + h2::frame(h2::headers, h2::end_headers, 1, h2::request_headers())
      + h2::frame(h2::data, h2::end_stream, 1, h2::request_message("first"));
  CAF_REQUIRE_EQUAL(c->send(call), call.size());
  CAF_REQUIRE(handler->wait_for(1));
  c->send(h2::frame(h2::push_promise, h2::end_headers, 3, "1234"));
  CAF_CHECK(c->wait_closed(10s));
  auto goaway = c->goaway();
  CAF_REQUIRE(goaway);
  CAF_CHECK_EQUAL(goaway->error_code, h2::protocol_error);
  CAF_CHECK_EQUAL(goaway->last_stream_id, 1u);
}

// The GOAWAY goes between two of grpc's frames: here grpc is in the middle
// of a 24 MiB response that the client does not read.
CAF_TEST(the GOAWAY never lands inside a frame of grpc) {
  auto settings = default_settings();
  settings.max_send_message_size = 64 * MiB;
  start(settings);
  handler->auto_answer = false;
  h2::raw_options opts;
  opts.receive_buffer = 64 * KiB;
  auto c = raw_client(opts);
  CAF_REQUIRE(c->connected());
  // Flow-control windows as large as they go.
  auto call
    = h2::preface + h2::settings_frame({{0x4, 0x7fffffffu}})
      + h2::frame(h2::window_update, 0, 0, std::string{"\x7f\xfe\xff\xff", 4})
      + h2::frame(h2::headers, h2::end_headers, 1, h2::request_headers())
      + h2::frame(h2::data, h2::end_stream, 1, h2::request_message("big"));
  CAF_REQUIRE_EQUAL(c->send(call), call.size());
  CAF_REQUIRE(handler->wait_for(1));
  CAF_REQUIRE(handler->at(0)->finish_ok({std::string(24 * MiB, 'x'), "root"}));
  // The response fills the socket buffers; the server's writes stall.
  std::uint64_t out = 0;
  CAF_CHECK(wait_until(
    [&] {
      auto now = srv->transport_stats().bytes_out;
      bool stalled = now == out && now > 64 * KiB;
      out = now;
      return stalled;
    },
    20s, 200ms));
  CAF_MESSAGE("stalled after " << out << " bytes");
  c->send(h2::frame(h2::push_promise, h2::end_headers, 3, "1234"));
  CAF_CHECK(c->wait_closed(10s));
  const auto& frames = c->frames();
  CAF_REQUIRE(!frames.empty());
  // Every frame parsed: the last one is our GOAWAY, everything before it
  // grpc's own frames, the response cut short.
  CAF_CHECK_EQUAL(frames.back().type, h2::goaway);
  std::size_t data_bytes = 0;
  for (std::size_t i = 0; i + 1 < frames.size(); ++i) {
    CAF_CHECK_LESS_OR_EQUAL(frames[i].type, h2::continuation);
    CAF_CHECK_NOT_EQUAL(frames[i].type, h2::goaway);
    if (frames[i].type == h2::data)
      data_bytes += frames[i].payload.size();
  }
  CAF_MESSAGE("response bytes before the GOAWAY: " << data_bytes);
  CAF_CHECK_LESS(data_bytes, 24 * MiB);
  auto goaway = c->goaway();
  CAF_REQUIRE(goaway);
  CAF_CHECK_EQUAL(goaway->error_code, h2::protocol_error);
  CAF_CHECK_EQUAL(goaway->last_stream_id, 1u);
  // grpc forgets the call and the connection.
  CAF_CHECK(wait_until(
    [&] {
      return srv->active_calls() == 0 && srv->registered_connections() == 0;
    },
    10s));
}

CAF_TEST(one warning per violating connection without header contents) {
  log_capture logs;
  start();
  for (int i = 0; i < 2; ++i) {
    h2::raw_options opts;
    opts.source = "127.0.0.3";
    auto c = raw_client(opts);
    CAF_REQUIRE(c->connected());
    auto start = hello
                 + h2::frame(h2::headers, 0, 1,
                             h2::request_headers("secret-token-in-headers"));
    c->send(start);
    flood(*c, h2::frame(h2::continuation, 0, 1, std::string(100, 'q')),
          16 * MiB);
    CAF_CHECK(c->wait_closed(10s));
  }
  CAF_CHECK(wait_until(
    [&] { return logs.matching("HTTP/2 limit violated").size() >= 2; }, 5s));
  auto warnings = logs.matching("HTTP/2 limit violated");
  CAF_REQUIRE_EQUAL(warnings.size(), 2u);
  for (const auto& line : warnings) {
    CAF_MESSAGE(line);
    CAF_CHECK(line.find("127.0.0.3:") != std::string::npos);
    CAF_CHECK(line.find("CONTINUATION flood") != std::string::npos);
  }
  CAF_CHECK(logs.matching("secret-token").empty());
  CAF_CHECK(logs.matching("qqqq").empty());
}

CAF_TEST(real clients never trip the inspector) {
  auto settings = default_settings();
  settings.min_recv_ping_interval = 500ms;
  start(settings);
  client_options opts;
  // Keepalive pings every second, permitted without calls.
  opts.args = {{GRPC_ARG_KEEPALIVE_TIME_MS, 1000},
               {GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000},
               {GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1},
               {GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0}};
  auto ch = channel(opts);
  // As ztunnel: 8 calls at a time on one connection.
  std::vector<std::future<int>> workers;
  for (int w = 0; w < 8; ++w)
    workers.push_back(std::async(std::launch::async, [&, w] {
      int ok = 0;
      for (int i = 0; i < 25; ++i)
        if (create_certificate(*ch, "w" + std::to_string(w)).status.ok())
          ++ok;
      return ok;
    }));
  for (auto& w : workers)
    CAF_CHECK_EQUAL(w.get(), 25);
  // A bearer token as large as the metadata limit allows.
  auto big = create_certificate(*ch, "big", 10s, std::string(14 * KiB, 't'));
  CAF_CHECK(big.status.ok());
  // Calls given up by the client: their streams are reset.
  handler->auto_answer = false;
  for (int i = 0; i < 20; ++i)
    CAF_CHECK_EQUAL(create_certificate(*ch, "slow", 50ms).status.error_code(),
                    grpc::StatusCode::DEADLINE_EXCEEDED);
  handler->auto_answer = true;
  CAF_CHECK(create_certificate(*ch, "after").status.ok());
  // Idle pings for a few seconds.
  auto bytes = srv->transport_stats().bytes_in;
  CAF_CHECK(wait_until(
    [&] { return srv->transport_stats().bytes_in >= bytes + 3 * 17; }, 10s));
  CAF_CHECK(create_certificate(*ch, "last").status.ok());
  auto stats = srv->transport_stats();
  CAF_CHECK_EQUAL(stats.h2_violations, 0u);
  CAF_CHECK_EQUAL(stats.handshakes_ok, 1u);
}

// grpc 1.51 applies its metadata limit to each frame of a header block, so
// a block split into HEADERS and CONTINUATION passes it; the inspector's cap
// on the whole block holds. grpc++ clients send such metadata regardless of
// the limit the server advertises.
CAF_TEST(metadata beyond the limit never reaches the handler) {
  start();
  auto ch = channel();
  CAF_REQUIRE(create_certificate(*ch, "first").status.ok());
  for (int headers : {1, 10}) {
    auto stub = IstioCertificateService::NewStub(ch);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 10s);
    for (int i = 0; i < headers; ++i)
      ctx.AddMetadata("x-pad-" + std::to_string(i),
                      std::string(20 * KiB / headers, 'p'));
    IstioCertificateRequest req;
    req.set_csr("huge");
    IstioCertificateResponse resp;
    auto status = stub->CreateCertificate(&ctx, req, &resp);
    // The TLS front answers the call before its GOAWAY.
    CAF_CHECK_EQUAL(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    CAF_CHECK_EQUAL(status.error_message(),
                    "request metadata exceeds 16384 bytes or 8 CONTINUATION "
                    "frames");
  }
  CAF_CHECK_EQUAL(handler->count(), 1u);
  // The server still serves (the channel reconnects if need be).
  CAF_CHECK(create_certificate(*ch, "again").status.ok());
}

// grpc's BDP probing would advertise a max frame size of 4 MiB (grpc++
// clients then send such frames), which the inspector refuses beyond 16 KiB.
CAF_TEST(grpc advertises the max frame size the inspector enforces) {
  start();
  auto c = raw_client();
  CAF_REQUIRE(c->connected());
  auto call
    = hello + h2::frame(h2::headers, h2::end_headers, 1, h2::request_headers())
      + h2::frame(h2::data, h2::end_stream, 1, h2::request_message("x"));
  CAF_REQUIRE_EQUAL(c->send(call), call.size());
  auto answered = [&] {
    for (const auto& f : c->frames())
      if (f.stream == 1 && f.type == h2::headers
          && (f.flags & h2::end_stream) != 0)
        return true;
    return false;
  };
  CAF_REQUIRE(c->receive_until(answered, 10s));
  std::size_t settings = 0;
  for (const auto& f : c->frames()) {
    if (f.type != h2::settings || (f.flags & h2::ack) != 0)
      continue;
    ++settings;
    for (std::size_t i = 0; i + 6 <= f.payload.size(); i += 6) {
      auto id = (static_cast<unsigned char>(f.payload[i]) << 8)
                | static_cast<unsigned char>(f.payload[i + 1]);
      std::uint32_t value = 0;
      for (std::size_t j = 2; j < 6; ++j)
        value = (value << 8) | static_cast<unsigned char>(f.payload[i + j]);
      if (id == 0x5) // SETTINGS_MAX_FRAME_SIZE
        CAF_CHECK_LESS_OR_EQUAL(value, 16384u);
      if (id == 0x3) // SETTINGS_MAX_CONCURRENT_STREAMS
        CAF_CHECK_EQUAL(value, 32u);
    }
  }
  CAF_CHECK_GREATER_OR_EQUAL(settings, 1u);
}

// Streams that never send their request hold grpc's stream state and the
// connection for as long as the client keeps answering keepalive pings;
// grpc has no deadline for receiving a request.
CAF_TEST(streams that never send their request are closed at the deadline) {
  auto settings = default_settings();
  settings.transport.request_read_timeout = 1s;
  start(settings);
  good_client good{*this};
  CAF_REQUIRE(good.wait_ok(1));
  struct attack {
    std::string name;
    std::string bytes;
  };
  auto headers = [](std::uint32_t s, std::uint8_t flags) {
    return h2::frame(h2::headers, flags, s, h2::request_headers());
  };
  auto message = h2::request_message("stalled");
  // (A whole message without END_STREAM is not among them: grpc calls the
  // handler with it, and the answer ends the stream.)
  std::vector<attack> attacks{
    {"headers without a message", hello + headers(1, h2::end_headers)},
    {"a message cut short", hello + headers(1, h2::end_headers)
                              + h2::frame(h2::data, h2::end_stream, 1, message)
                                  .substr(0, 9 + message.size() / 2)},
    {"a header block cut short",
     hello + h2::frame(h2::headers, h2::end_stream, 1, "\x83")},
    {"one finished request and one not",
     hello + headers(1, h2::end_headers)
       + h2::frame(h2::data, h2::end_stream, 1, message)
       + headers(3, h2::end_headers)},
  };
  std::vector<std::unique_ptr<h2::raw_client>> clients;
  for (const auto& a : attacks) {
    clients.push_back(raw_client());
    CAF_REQUIRE(clients.back()->connected());
    CAF_REQUIRE_EQUAL(clients.back()->send(a.bytes), a.bytes.size());
  }
  for (std::size_t i = 0; i < attacks.size(); ++i) {
    ICSR_CHECK_CASE(clients[i]->wait_closed(10s), attacks[i].name);
    auto goaway = clients[i]->goaway();
    ICSR_CHECK_CASE(goaway.has_value(), attacks[i].name);
    if (goaway)
      ICSR_CHECK_CASE(goaway->error_code == h2::enhance_your_calm,
                      attacks[i].name);
  }
  auto stats = srv->transport_stats();
  CAF_CHECK_EQUAL(stats.request_timeouts, attacks.size());
  CAF_CHECK_EQUAL(stats.h2_violations, attacks.size());
  // Only the finished request reached the handler.
  CAF_CHECK_EQUAL(calls_with(*handler, "stalled"), 1u);
  auto before = good.ok();
  CAF_CHECK(good.wait_ok(before + 1));
  CAF_CHECK_EQUAL(good.finish(), 0);
}

CAF_TEST(a connection that never sends the HTTP2 preface is closed) {
  auto settings = default_settings();
  settings.transport.request_read_timeout = 1s;
  start(settings);
  for (const std::string& sent : {std::string{}, h2::preface}) {
    auto c = raw_client();
    CAF_REQUIRE(c->connected());
    CAF_REQUIRE_EQUAL(c->send(sent), sent.size());
    CAF_CHECK(c->wait_closed(10s));
    auto goaway = c->goaway();
    CAF_REQUIRE(goaway);
    CAF_CHECK_EQUAL(goaway->error_code, h2::enhance_your_calm);
  }
  CAF_CHECK_EQUAL(srv->transport_stats().request_timeouts, 2u);
}

CAF_TEST(a request the handler holds is not subject to the read deadline) {
  auto settings = default_settings();
  settings.transport.request_read_timeout = 1s;
  start(settings);
  handler->auto_answer = false;
  auto ch = channel();
  auto pending = std::async(
    std::launch::async, [&] { return create_certificate(*ch, "held", 30s); });
  CAF_REQUIRE(handler->wait_for(1));
  // The client sent everything: the call may take as long as its deadline
  // allows, on a connection that is otherwise idle. Twice the read
  // deadline passes meanwhile (a bounded wait for a close that must not
  // come).
  CAF_CHECK(!wait_until([&] { return srv->transport_stats().closed > 0; }, 2s));
  CAF_CHECK(handler->at(0)->finish_ok({"leaf", "root"}));
  CAF_CHECK(pending.get().status.ok());
  CAF_CHECK_EQUAL(srv->transport_stats().request_timeouts, 0u);
}

CAF_TEST_FIXTURE_SCOPE_END()
