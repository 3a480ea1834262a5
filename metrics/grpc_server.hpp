#pragma once

#include <array>
#include <string_view>

#include "metrics/handles.hpp"

namespace istio_csr::metrics {

/// gRPC status codes (0 OK ... 16 UNAUTHENTICATED).
inline constexpr int grpc_code_count = 17;

/// Go's `codes.Code.String()`: "OK", "Canceled", "Unauthenticated", ...
/// (CamelCase, as upstream's `grpc_code` label); "Code(n)" out of range
/// is never produced: out-of-range codes map to "Unknown".
std::string_view go_code_name(int code) noexcept;

/// Upstream's gRPC server families (go-grpc-middleware's prometheus
/// server metrics, namespace `cert_manager_istio_csr`) for the one method
/// `istio.v1.auth.IstioCertificateService/CreateCertificate`
/// (grpc_type="unary"), every series pre-initialised:
/// `..._grpc_server_started_total`, `..._handled_total{grpc_code}` (all 17
/// codes), `..._msg_received_total`, `..._msg_sent_total` and the
/// `..._handling_seconds` histogram (DefBuckets).
struct grpc_server_handles {
  counter started;
  counter msg_received;
  counter msg_sent;
  std::array<counter, grpc_code_count> handled;
  histogram handling_seconds;

  /// The handled series of `code` (out of range: Unknown).
  const counter& handled_with(int code) const noexcept {
    return handled[code >= 0 && code < grpc_code_count ? code : 2];
  }
};

/// The series of CreateCertificate; made on first use. Thread-safe.
const grpc_server_handles& grpc_server_series();

} // namespace istio_csr::metrics
