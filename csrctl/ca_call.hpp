#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace istio_csr::csrctl {

/// Where `istio.v1.auth.IstioCertificateService/CreateCertificate` calls go:
/// the agent's address and how the TLS connection is made.
struct ca_target {
  std::string address;         ///< HOST:PORT
  std::string server_name;     ///< TLS name to verify (and send as SNI)
  std::string root_pem;        ///< trusted roots for the serving certificate
  std::string client_cert_pem; ///< optional client certificate chain
  std::string client_key_pem;  ///< its key (memory only)
};

/// What one call sends, as istio-agent or ztunnel sends it.
struct ca_request {
  std::string token;      ///< `authorization: Bearer` (omitted when empty)
  std::string cluster_id; ///< `clusterid` (omitted when empty)
  std::string csr_pem;
  int64_t validity_seconds = 0;
  /// `metadata` Struct fields (string values), e.g. {"CertSigner", ""}.
  std::map<std::string, std::string> metadata;
};

/// One call over TLS, as istio-agent or ztunnel makes it.
struct ca_call : ca_target, ca_request {
  std::chrono::milliseconds timeout{30000};
};

/// The outcome of a call, or of one attempt of it.
struct ca_result {
  int code = 0;        ///< grpc::StatusCode
  std::string message; ///< the status message
  std::vector<std::string> cert_chain;

  bool ok() const noexcept {
    return code == 0;
  }
};

/// Makes the call (blocking, bounded by `call.timeout`) on a connection of
/// its own.
ca_result create_certificate(const ca_call& call);

/// The canonical upper-case name of a gRPC status code ("UNAUTHENTICATED").
std::string status_code_name(int code);

} // namespace istio_csr::csrctl
