#include "metrics/grpc_server.hpp"

#include "metrics/buckets.hpp"
#include "metrics/family.hpp"

namespace istio_csr::metrics {

std::string_view go_code_name(int code) noexcept {
  static constexpr std::array<std::string_view, grpc_code_count> names{
    "OK",
    "Canceled",
    "Unknown",
    "InvalidArgument",
    "DeadlineExceeded",
    "NotFound",
    "AlreadyExists",
    "PermissionDenied",
    "ResourceExhausted",
    "FailedPrecondition",
    "Aborted",
    "OutOfRange",
    "Unimplemented",
    "Internal",
    "Unavailable",
    "DataLoss",
    "Unauthenticated",
  };
  return code >= 0 && code < grpc_code_count ? names[code] : names[2];
}

namespace {

grpc_server_handles make() {
  using namespace detail;
  const labels method{{"grpc_type", "unary"},
                      {"grpc_service", "istio.v1.auth.IstioCertificateService"},
                      {"grpc_method", "CreateCertificate"}};
  grpc_server_handles h;
  h.started
    = add(counter_family("cert_manager_istio_csr_grpc_server_started_total",
                         "Total number of RPCs started on the server."),
          method);
  h.msg_received
    = add(counter_family(
            "cert_manager_istio_csr_grpc_server_msg_received_total",
            "Total number of RPC stream messages received on the server."),
          method);
  h.msg_sent = add(
    counter_family("cert_manager_istio_csr_grpc_server_msg_sent_total",
                   "Total number of gRPC stream messages sent by the server."),
    method);
  auto& handled = counter_family(
    "cert_manager_istio_csr_grpc_server_handled_total",
    "Total number of RPCs completed on the server, regardless of success or "
    "failure.");
  for (int code = 0; code < grpc_code_count; ++code) {
    auto l = method;
    l["grpc_code"] = std::string{go_code_name(code)};
    h.handled[static_cast<std::size_t>(code)] = add(handled, l);
  }
  h.handling_seconds = add(
    histogram_family("cert_manager_istio_csr_grpc_server_handling_seconds",
                     "Histogram of response latency (seconds) of gRPC that "
                     "had been application-level handled by the server."),
    method, buckets::default_seconds);
  return h;
}

} // namespace

const grpc_server_handles& grpc_server_series() {
  static const grpc_server_handles instance = make();
  return instance;
}

} // namespace istio_csr::metrics
