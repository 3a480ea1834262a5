#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace istio_csr::devcluster {

/// An HTTP request as the API layer sees it (no Beast types).
struct http_request {
  std::string method; ///< "GET", "POST", ...
  std::string target; ///< raw request target
  std::string path;   ///< percent-decoded path
  std::map<std::string, std::string> query;
  std::string authorization;
  std::string content_type;
  std::string accept;
  std::string user_agent;
  std::string body;
};

/// A complete HTTP response.
struct http_response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

/// Where a streaming response writes: implemented by the HTTP session.
/// Every call happens on the server thread.
class stream_sink {
 public:
  virtual ~stream_sink() = default;

  /// Queues one chunk (a whole number of events).
  virtual void send(std::shared_ptr<const std::string> chunk) = 0;

  /// Ends the response (terminating chunk) and closes the connection.
  virtual void finish() = 0;
};

/// A streaming response (a watch). The session owns it: it calls `start`
/// once the response header is on its way and destroys it when the client
/// goes away or after `finish`.
class stream_source {
 public:
  virtual ~stream_source() = default;

  /// Status line and headers for the chunked response.
  virtual http_response header() const = 0;

  /// Begins streaming into `sink`, which outlives this object.
  virtual void start(stream_sink& sink) = 0;
};

/// What the API layer answers: a response, or a stream.
struct api_result {
  http_response response;
  std::unique_ptr<stream_source> stream;
};

} // namespace istio_csr::devcluster
