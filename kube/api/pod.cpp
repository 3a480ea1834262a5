#include "kube/api/pod.hpp"

namespace istio_csr::kube {

namespace {

void copy_member(nlohmann::json& from, nlohmann::json& to,
                 std::string_view key) {
  if (!from.is_object())
    return;
  auto i = from.find(key);
  if (i != from.end())
    to[std::string{key}] = std::move(*i);
}

} // namespace

nlohmann::json strip_pod(nlohmann::json pod) {
  auto result = nlohmann::json::object();
  copy_member(pod, result, "apiVersion");
  copy_member(pod, result, "kind");
  auto meta = nlohmann::json::object();
  if (auto m = pod.find("metadata"); m != pod.end())
    for (auto key :
         {"name", "namespace", "uid", "resourceVersion", "deletionTimestamp"})
      copy_member(*m, meta, key);
  result["metadata"] = std::move(meta);
  auto spec = nlohmann::json::object();
  if (auto s = pod.find("spec"); s != pod.end())
    for (auto key : {"serviceAccountName", "nodeName"})
      copy_member(*s, spec, key);
  result["spec"] = std::move(spec);
  auto status = nlohmann::json::object();
  if (auto s = pod.find("status"); s != pod.end())
    copy_member(*s, status, "phase");
  result["status"] = std::move(status);
  return result;
}

} // namespace istio_csr::kube
