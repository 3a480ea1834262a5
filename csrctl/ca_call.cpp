#include "csrctl/ca_call.hpp"

#include "csrctl/ca_client.hpp"

namespace istio_csr::csrctl {

ca_result create_certificate(const ca_call& call) {
  // One connection and one slot of the asynchronous client: there is one
  // CreateCertificate client in csrctl.
  auto client = make_ca_client(call, {call}, 1, 1);
  client->start(0, 0, 0, call.timeout);
  // The call's deadline ends it; the wait needs none of its own.
  while (!client->next(async_calls::clock::time_point::max())) {
  }
  return client->result(0);
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
