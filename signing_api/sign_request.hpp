#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "signing_api/client_identity.hpp"
#include "signing_api/sign_reply.hpp"

namespace istio_csr::signing_api {

/// Who is calling, as far as the transport knows. Authentication itself
/// (TokenReview, the cluster check) is the signer's job.
struct caller_info {
  /// The first `authorization` value that starts with "Bearer ", without
  /// that prefix. Never log it.
  std::optional<std::string> bearer_token;
  /// Whether any `authorization` header was sent (for the log: "no HTTP
  /// authorization header exists" vs "no bearer token exists").
  bool has_authorization = false;
  /// Every `clusterid` value, in order.
  std::vector<std::string> cluster_ids;
  /// The verified client certificate's identity, if one was presented.
  std::optional<client_cert_identity> client_cert;
  /// The caller's address, "ip:port".
  std::string peer;
  /// The connection the request came on (unique per process).
  std::uint64_t connection_id = 0;
};

/// One request for a workload certificate, as plain data: what the transport
/// read from the wire and where the answer goes.
struct sign_request {
  caller_info caller;
  /// The CSR as the caller sent it (untrusted text).
  std::string csr_pem;
  /// The requested lifetime in seconds (may be zero or negative).
  std::int64_t validity_seconds = 0;
  /// Ambient: the identity a node proxy asks for on a workload's behalf
  /// (`ImpersonatedIdentity`); empty when absent.
  std::string impersonated_identity;
  /// The caller's deadline; `time_point::max()` when it set none.
  std::chrono::steady_clock::time_point deadline
    = std::chrono::steady_clock::time_point::max();
  /// Where the result goes; also tells of cancellation. Never null.
  std::shared_ptr<sign_reply> reply;
};

/// Receives every signing request. `handle` runs on a transport thread and
/// must not block: it starts the work and returns; the reply is finished
/// later from any thread.
class sign_handler {
 public:
  virtual ~sign_handler();

  virtual void handle(sign_request request) = 0;
};

} // namespace istio_csr::signing_api
