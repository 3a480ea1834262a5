// Kubernetes objects as the API server sends them (list items, GET answers,
// watch event objects, error bodies), through every reader the agent has:
// the typed views (metadata, Pod, Namespace, ConfigMap, Lease,
// CertificateRequest, Certificate, Status), the error an answer becomes,
// the pod informer's transforms and the pod index, and the controllers'
// decisions on objects (root ConfigMap plan, namespace selection, runtime
// issuer, istiod Certificate update, CertificateRequest outcome).
//
// Input: JSON, parsed as the Kubernetes client parses answers (a text that
// is no JSON is dropped there too). Any JSON value: list items and watch
// event objects can be anything. The objects the agent sends back must
// serialize.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "actors/ambient/pod_index.hpp"
#include "actors/ambient/pod_record.hpp"
#include "actors/controllers/istiod_cert_spec.hpp"
#include "actors/controllers/root_cert.hpp"
#include "actors/controllers/runtime_issuer.hpp"
#include "actors/signing/certificate_requests.hpp"
#include "errors/describe.hpp"
#include "fuzz/fuzz_input.hpp"
#include "kube/api/certificate.hpp"
#include "kube/api/certificate_request.hpp"
#include "kube/api/condition.hpp"
#include "kube/api/config_map.hpp"
#include "kube/api/label_selector.hpp"
#include "kube/api/lease.hpp"
#include "kube/api/namespace.hpp"
#include "kube/api/object.hpp"
#include "kube/api/pod.hpp"
#include "kube/api/status.hpp"

using namespace istio_csr;
namespace ambient = istio_csr::actors::ambient;
namespace controllers = istio_csr::actors::controllers;
namespace signing = istio_csr::actors::signing;

namespace {

void views(const nlohmann::json& obj) {
  kube::object_ref ref{obj};
  (void)ref.kind();
  (void)ref.api_version();
  (void)ref.uid();
  (void)ref.resource_version();
  (void)ref.generate_name();
  (void)ref.generation();
  (void)ref.deleting();
  (void)ref.labels();
  (void)ref.annotations();
  (void)ref.label("app");
  (void)ref.annotation(kube::identities_annotation);
  (void)ref.key();
  kube::pod_view pod{obj};
  (void)pod.service_account_name();
  (void)pod.node_name();
  (void)pod.phase();
  (void)kube::namespace_view{obj}.terminating();
  kube::config_map_view cm{obj};
  (void)cm.data();
  (void)cm.data("root-cert.pem");
  (void)kube::lease_view{obj}.spec();
  kube::certificate_request_view cr{obj};
  (void)kube::to_string(cr.conditions());
  (void)cr.ready();
  (void)cr.denied();
  (void)cr.failed();
  (void)cr.certificate();
  (void)cr.ca();
  (void)cr.request();
  (void)cr.issuer();
  (void)cr.duration();
  (void)cr.usages();
  (void)cr.is_ca();
  kube::certificate_view cert{obj};
  (void)cert.ready();
  (void)cert.secret_name();
  (void)cert.common_name();
  (void)cert.dns_names();
  (void)cert.issuer();
  kube::status_view status{obj};
  (void)status.is_status();
  (void)status.causes();
  (void)status.retry_after_seconds();
  (void)errors::describe(kube::error_from_status(obj));
  for (int code : {400, 404, 409, 410, 422, 429, 500, 504})
    (void)errors::describe(kube::error_from_status(code, obj, "raw"));
}

void controllers_on(const nlohmann::json& obj) {
  auto plan = controllers::plan_root_cert("default", &obj, "ROOT PEM\n");
  if (plan.act != controllers::root_cert_plan::action::none)
    (void)plan.object.dump();
  static const auto selector
    = *kube::label_selector::parse("istio-injection=enabled,!skip");
  (void)controllers::namespace_selected(&obj, selector);
  (void)controllers::parse_runtime_issuer(obj);
  // Only ever given an object: a GET answer (the client refuses others) or
  // the informer's entry under the Certificate's namespace/name.
  if (obj.is_object()) {
    controllers::istiod_cert_settings settings;
    auto update = controllers::istiod_cert_update(
      settings, {"istio-ca", "Issuer", "cert-manager.io"}, obj);
    if (!update.is_null())
      (void)update.dump();
  }
  if (signing::is_final(obj))
    (void)signing::finished_from(obj);
}

void pods_on(const nlohmann::json& obj) {
  auto record = std::make_shared<const nlohmann::json>(
    ambient::make_pod_record(kube::strip_pod(obj)));
  ambient::pod_index index;
  if (index.upsert(record)) {
    auto fields = ambient::read_pod_record(*record);
    fuzz::require(fields.has_value(), "an indexed record reads");
    fuzz::require(index.find(fields->namespace_, fields->name).has_value(),
                  "an indexed pod is found");
    (void)index.count_on_node(fields->namespace_, fields->service_account,
                              fields->node);
    fuzz::require(index.erase(*record), "an indexed pod erases");
    fuzz::require(index.size() == 0 && index.names() == 0,
                  "the index is empty again");
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  auto obj = nlohmann::json::parse(fuzz::text(data, size), nullptr, false);
  if (obj.is_discarded())
    return 0;
  views(obj);
  controllers_on(obj);
  pods_on(obj);
  return 0;
}
