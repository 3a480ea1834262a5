// A CreateCertificate call's metadata, from the headers to the API request
// they lead to: `authorization`, `clusterid` (`read_call_metadata`) and
// `ImpersonatedIdentity` (`impersonated_identity`) as the bridge reads them;
// the Kube JWT checks before any API call (`kube_jwt_token`); what a token
// becomes (the TokenReview body as sent, the cache key, the JWT `exp`); and
// for Ambient, the node authorization of the impersonated identity and the
// CertificateRequest that carries it.
//
// Input: lines. The first is the `ImpersonatedIdentity` value (a string; a
// number when the line starts with '#'; absent when empty); every further
// line is one header, `key:value`.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/struct.pb.h>
#include <grpcpp/support/string_ref.h>

#include "actors/ambient/node_authorizer.hpp"
#include "actors/ambient/pod_index.hpp"
#include "actors/ambient/pod_record.hpp"
#include "actors/ambient/trusted_accounts.hpp"
#include "actors/signing/certificate_requests.hpp"
#include "actors/signing/policy/kube_jwt.hpp"
#include "actors/signing/token_review_cache.hpp"
#include "fuzz/fuzz_input.hpp"
#include "grpc_bridge/call_metadata.hpp"
#include "kube/api/token_review.hpp"
#include "signing_api/sign_request.hpp"
#include "signing_api/spiffe.hpp"

using namespace istio_csr;
namespace ambient = istio_csr::actors::ambient;
namespace signing = istio_csr::actors::signing;

namespace {

/// A cluster with a ztunnel and one workload on node-a.
const ambient::pod_index& pods() {
  static const auto index = [] {
    auto idx = std::make_unique<ambient::pod_index>();
    idx->upsert(std::make_shared<const nlohmann::json>(ambient::pod_record(
      {"istio-system", "ztunnel-a", "uid-z", "ztunnel", "node-a", "Running"})));
    idx->upsert(std::make_shared<const nlohmann::json>(ambient::pod_record(
      {"default", "app-1", "uid-1", "default", "node-a", "Running"})));
    return idx;
  }();
  return *index;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  auto in = fuzz::text(data, size);
  auto first = fuzz::next_part(in, '\n');
  google::protobuf::Struct request_metadata;
  if (!first.empty()) {
    auto& value = (*request_metadata.mutable_fields())["ImpersonatedIdentity"];
    if (first.front() == '#')
      value.set_number_value(static_cast<double>(first.size()));
    else
      value.set_string_value(std::string{first});
  }
  std::multimap<grpc::string_ref, grpc::string_ref> headers;
  while (!in.empty()) {
    auto line = fuzz::next_part(in, '\n');
    auto key = fuzz::next_part(line, ':');
    headers.emplace(grpc::string_ref{key.data(), key.size()},
                    grpc::string_ref{line.data(), line.size()});
  }

  signing_api::caller_info caller;
  grpc_bridge::read_call_metadata(headers, caller);
  auto target = grpc_bridge::impersonated_identity(request_metadata);

  const std::vector<std::string> audiences{"istio-ca"};
  if (auto token = signing::policy::kube_jwt_token(caller, "Kubernetes")) {
    // What the kube client sends must serialize (it throws otherwise).
    (void)kube::make_token_review(*token, audiences).dump();
    auto key = signing::token_review_cache::key_of(*token, audiences);
    (void)signing::jwt_expiry(*token);
    signing::token_review_cache cache{std::chrono::seconds{10}};
    auto now = signing::token_review_cache::time_point{};
    cache.insert(
      key, *token,
      nlohmann::json{{"authenticated", true}, {"user", {{"username", "x"}}}},
      now);
    (void)cache.find(key, now);
  }

  if (!target.empty()) {
    (void)signing_api::parse_spiffe_identity(target);
    ambient::node_authorizer authorizer{
      ambient::trusted_accounts::parse({"istio-system/ztunnel"}),
      "cluster.local"};
    ambient::caller_info ztunnel{"ztunnel-a", "istio-system", "uid-z",
                                 "ztunnel"};
    if (!authorizer.check(pods(), ztunnel, target)) {
      // Allowed: the identity goes into the CertificateRequest.
      signing::cr_request req;
      req.identities = target;
      (void)signing::make_cr(signing::cr_settings{}, req).dump();
    }
  }
  return 0;
}
