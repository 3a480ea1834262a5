#include "grpc_bridge/call_metadata.hpp"

#include <string_view>

namespace istio_csr::grpc_bridge {

namespace {

std::string_view view(const grpc::string_ref& s) {
  return {s.data(), s.size()};
}

} // namespace

void read_call_metadata(
  const std::multimap<grpc::string_ref, grpc::string_ref>& metadata,
  signing_api::caller_info& caller) {
  constexpr std::string_view bearer = "Bearer ";
  for (const auto& [key, value] : metadata) {
    auto k = view(key);
    auto v = view(value);
    if (k == "authorization") {
      caller.has_authorization = true;
      if (!caller.bearer_token && v.substr(0, bearer.size()) == bearer)
        caller.bearer_token = std::string{v.substr(bearer.size())};
    } else if (k == "clusterid") {
      caller.cluster_ids.emplace_back(v);
    }
  }
}

std::string
impersonated_identity(const google::protobuf::Struct& request_metadata) {
  const auto& fields = request_metadata.fields();
  if (auto i = fields.find("ImpersonatedIdentity");
      i != fields.end()
      && i->second.kind_case() == google::protobuf::Value::kStringValue)
    return i->second.string_value();
  return {};
}

} // namespace istio_csr::grpc_bridge
