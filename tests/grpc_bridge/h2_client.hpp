#pragma once

// Raw HTTP/2 over TLS for attack tests: frames written by hand (independent
// of grpc_bridge/tls/h2_frames) and a TLS client (OpenSSL) that sends them
// while reading what the server answers.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tests/support/process.hpp"

namespace istio_csr::test::h2 {

inline constexpr std::uint8_t data = 0x0;
inline constexpr std::uint8_t headers = 0x1;
inline constexpr std::uint8_t priority = 0x2;
inline constexpr std::uint8_t rst_stream = 0x3;
inline constexpr std::uint8_t settings = 0x4;
inline constexpr std::uint8_t push_promise = 0x5;
inline constexpr std::uint8_t ping = 0x6;
inline constexpr std::uint8_t goaway = 0x7;
inline constexpr std::uint8_t window_update = 0x8;
inline constexpr std::uint8_t continuation = 0x9;

inline constexpr std::uint8_t ack = 0x1;
inline constexpr std::uint8_t end_stream = 0x1;
inline constexpr std::uint8_t end_headers = 0x4;
inline constexpr std::uint8_t padded = 0x8;
inline constexpr std::uint8_t priority_flag = 0x20;

inline constexpr std::uint32_t protocol_error = 0x1;
inline constexpr std::uint32_t frame_size_error = 0x6;
inline constexpr std::uint32_t cancel = 0x8;
inline constexpr std::uint32_t enhance_your_calm = 0xb;

inline const std::string preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// A frame header announcing `length` payload bytes.
std::string frame_header(std::uint32_t length, std::uint8_t type,
                         std::uint8_t flags, std::uint32_t stream);

/// A whole frame.
std::string frame(std::uint8_t type, std::uint8_t flags, std::uint32_t stream,
                  std::string_view payload = {});

/// A SETTINGS frame (no ACK) with `values` (identifier, value).
std::string settings_frame(
  const std::vector<std::pair<std::uint16_t, std::uint32_t>>& values = {});

std::string rst_stream_frame(std::uint32_t stream, std::uint32_t code);

std::string ping_frame(bool is_ack = false);

/// An HPACK integer with an `prefix_bits`-bit prefix; `first` holds the
/// pattern bits above the prefix.
std::string hpack_int(std::uint64_t value, int prefix_bits,
                      std::uint8_t first = 0);

/// A literal header field without indexing, new name, no Huffman coding.
std::string hpack_literal(std::string_view name, std::string_view value);

/// The header block of a CreateCertificate call with a bearer token.
std::string request_headers(const std::string& token = "test-token");

/// A length-prefixed gRPC message holding an IstioCertificateRequest.
std::string request_message(const std::string& csr);

/// A GOAWAY as received.
struct goaway_info {
  std::uint32_t last_stream_id = 0;
  std::uint32_t error_code = 0;
};

/// A frame as received.
struct received_frame {
  std::uint8_t type = 0;
  std::uint8_t flags = 0;
  std::uint32_t stream = 0;
  std::string payload;
};

/// How a `raw_client` connects.
struct raw_options {
  /// The local address (any of 127.0.0.0/8), default any.
  std::string source;
  /// SO_RCVBUF before connecting, 0 for the system's default: a small one
  /// makes the server's writes stall while the client does not read.
  int receive_buffer = 0;
};

/// A TLS connection (ALPN h2, the fixture's CA) sending raw HTTP/2 bytes.
/// While it writes it also reads, so a server that answers a flood with a
/// GOAWAY and closes is seen doing so.
class raw_client {
 public:
  /// Connects to 127.0.0.1:`port`, completes the TLS handshake (SNI and
  /// verified name `server_name`, trusting `ca_pem`); `connected()` says
  /// whether that worked.
  raw_client(std::uint16_t port, const std::string& ca_pem,
             const std::string& server_name, const raw_options& opts = {});
  ~raw_client();
  raw_client(const raw_client&) = delete;
  raw_client& operator=(const raw_client&) = delete;

  bool connected() const noexcept;

  /// Writes `bytes` unless the connection ends (or `timeout` passes) first;
  /// returns how many were written.
  std::size_t send(std::string_view bytes,
                   std::chrono::milliseconds timeout = 10s);

  /// Reads until `done()` holds (checked after every read) or the server
  /// closed the connection; returns the last result of `done()`.
  bool receive_until(const std::function<bool()>& done,
                     std::chrono::milliseconds timeout);

  /// Reads until the server closed the connection; false on timeout.
  bool wait_closed(std::chrono::milliseconds timeout);

  /// Whether the server closed the connection (EOF, reset or TLS error).
  bool closed() const noexcept;

  /// The first GOAWAY received so far.
  std::optional<goaway_info> goaway() const;

  /// Every frame received so far.
  const std::vector<received_frame>& frames() const noexcept;

  /// Plaintext bytes written so far.
  std::size_t bytes_sent() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace istio_csr::test::h2
