#pragma once

#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

namespace istio_csr::devcluster {

/// Media type of Kubernetes' protobuf encoding.
inline constexpr std::string_view protobuf_media_type
  = "application/vnd.kubernetes.protobuf";

/// Decodes a Kubernetes protobuf body (`k8s\0` + runtime.Unknown) into the
/// JSON form of the object, with apiVersion and kind. kubectl's typed
/// clients send these (`create token`, `create configmap|secret|namespace|
/// serviceaccount`, DeleteOptions). Supported kinds: ConfigMap, Secret,
/// Namespace, ServiceAccount, TokenRequest, TokenReview, Lease,
/// SelfSubjectReview, SelfSubjectAccessReview, DeleteOptions. Returns the error
/// text otherwise.
std::variant<nlohmann::json, std::string>
decode_kubernetes_protobuf(std::string_view body);

} // namespace istio_csr::devcluster
