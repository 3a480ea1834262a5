#pragma once

// Plain HTTP requests to our own listeners (readiness, /metrics, the debug
// endpoint) with curl, an independent client.

#include <cstdint>
#include <string>
#include <vector>

namespace istio_csr::test {

/// What curl got for one request.
struct http_result {
  /// The HTTP status; 0 when curl got no answer.
  int status = 0;
  std::string body;
  /// curl's exit code and stderr when it got no answer.
  std::string error;
};

/// `METHOD http://127.0.0.1:PORT/target` with curl (20 s at most), `extra`
/// added to its arguments (e.g. `{"-H", "Origin: x"}`).
http_result curl_http(std::uint16_t port, const std::string& target,
                      const std::string& method = "GET",
                      const std::vector<std::string>& extra = {});

} // namespace istio_csr::test
