#pragma once

// Synthetic pods for the ambient unit suites: the pods of upstream's
// node_auth_test.go (ztunnel-a on zt-node, pod-a of ns-a/sa-a on zt-node,
// pod-b of ns-a/sa-a on other-node). Include only from CAF test TUs.

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "actors/ambient/node_authorizer.hpp"
#include "actors/ambient/pod_index.hpp"
#include "actors/ambient/pod_record.hpp"

namespace istio_csr::test::ambient {

namespace amb = istio_csr::actors::ambient;

/// A pod as upstream's tests describe it.
struct test_pod {
  std::string name;
  std::string namespace_;
  std::string account;
  std::string uid;
  std::string node;
  std::string phase = "Running";

  /// `spiffe://cluster.local/ns/<namespace>/sa/<account>`.
  std::string identity() const {
    return "spiffe://cluster.local/ns/" + namespace_ + "/sa/" + account;
  }

  /// Its informer record, as the pod informer caches it.
  amb::record_ptr record() const {
    return std::make_shared<const nlohmann::json>(amb::pod_record(
      amb::pod_fields{namespace_, name, uid, account, node, phase}));
  }

  /// The Pod object the API server would send.
  nlohmann::json object() const {
    return {{"apiVersion", "v1"},
            {"kind", "Pod"},
            {"metadata",
             {{"name", name},
              {"namespace", namespace_},
              {"uid", uid},
              {"resourceVersion", "42"},
              {"labels", {{"app", "x"}}},
              {"annotations", {{"a", std::string(2000, 'x')}}}}},
            {"spec",
             {{"serviceAccountName", account},
              {"nodeName", node},
              {"containers", nlohmann::json::array({{{"name", "c"}}})}}},
            {"status", {{"phase", phase}, {"podIP", "10.0.0.1"}}}};
  }
};

inline const amb::caller_info ztunnel_caller{"ztunnel-a", "istio-system",
                                             "12345", "ztunnel"};
inline const test_pod ztunnel_pod{"ztunnel-a", "istio-system", "ztunnel",
                                  "12345", "zt-node"};
inline const test_pod pod_same_node{"pod-a", "ns-a", "sa-a", "1", "zt-node"};
inline const test_pod pod_other_node{"pod-b", "ns-a", "sa-a", "2",
                                     "other-node"};

/// `istio-system/ztunnel`.
inline amb::trusted_accounts allow_ztunnel() {
  return amb::trusted_accounts::parse({"istio-system/ztunnel"});
}

} // namespace istio_csr::test::ambient
