#pragma once

#include <map>
#include <string>

#include <google/protobuf/struct.pb.h>
#include <grpcpp/support/string_ref.h>

#include "signing_api/sign_request.hpp"

namespace istio_csr::grpc_bridge {

/// Reads a call's metadata (headers) into `caller`, as istio's authenticators
/// read them: any `authorization` sets `has_authorization`, the first one
/// that starts with "Bearer " gives `bearer_token` (without that prefix);
/// every `clusterid` value is appended to `cluster_ids`, in order. Values are
/// taken as they are: what they may hold is the signer's business.
void read_call_metadata(
  const std::multimap<grpc::string_ref, grpc::string_ref>& metadata,
  signing_api::caller_info& caller);

/// The `ImpersonatedIdentity` field of a request's `metadata` Struct when it
/// is a string (Ambient: the identity ztunnel asks for), else empty.
std::string
impersonated_identity(const google::protobuf::Struct& request_metadata);

} // namespace istio_csr::grpc_bridge
