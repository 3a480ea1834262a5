#include "csrctl/ca_call.hpp"

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/credentials.h>

#include "proto/ca.grpc.pb.h"

namespace istio_csr::csrctl {

ca_result create_certificate(const ca_call& call) {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = call.root_pem;
  ssl.pem_cert_chain = call.client_cert_pem;
  ssl.pem_private_key = call.client_key_pem;
  grpc::ChannelArguments args;
  if (!call.server_name.empty())
    args.SetSslTargetNameOverride(call.server_name);
  // One short-lived connection: never share a subchannel with another
  // channel of this process.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto channel
    = grpc::CreateCustomChannel(call.address, grpc::SslCredentials(ssl), args);
  auto stub = istio::v1::auth::IstioCertificateService::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + call.timeout);
  if (!call.token.empty())
    ctx.AddMetadata("authorization", "Bearer " + call.token);
  if (!call.cluster_id.empty())
    ctx.AddMetadata("clusterid", call.cluster_id);
  istio::v1::auth::IstioCertificateRequest req;
  req.set_csr(call.csr_pem);
  req.set_validity_duration(call.validity_seconds);
  if (!call.metadata.empty()) {
    auto& fields = *req.mutable_metadata()->mutable_fields();
    for (const auto& [key, value] : call.metadata)
      fields[key].set_string_value(value);
  }
  istio::v1::auth::IstioCertificateResponse resp;
  auto status = stub->CreateCertificate(&ctx, req, &resp);
  ca_result out;
  out.code = static_cast<int>(status.error_code());
  out.message = status.error_message();
  if (status.ok())
    out.cert_chain.assign(resp.cert_chain().begin(), resp.cert_chain().end());
  return out;
}

std::string status_code_name(int code) {
  static constexpr const char* names[] = {"OK",
                                          "CANCELLED",
                                          "UNKNOWN",
                                          "INVALID_ARGUMENT",
                                          "DEADLINE_EXCEEDED",
                                          "NOT_FOUND",
                                          "ALREADY_EXISTS",
                                          "PERMISSION_DENIED",
                                          "RESOURCE_EXHAUSTED",
                                          "FAILED_PRECONDITION",
                                          "ABORTED",
                                          "OUT_OF_RANGE",
                                          "UNIMPLEMENTED",
                                          "INTERNAL",
                                          "UNAVAILABLE",
                                          "DATA_LOSS",
                                          "UNAUTHENTICATED"};
  if (code >= 0 && code < static_cast<int>(std::size(names)))
    return names[code];
  return "CODE_" + std::to_string(code);
}

} // namespace istio_csr::csrctl
