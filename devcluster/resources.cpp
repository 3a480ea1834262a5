#include "devcluster/resources.hpp"

#include <algorithm>
#include <stdexcept>

namespace istio_csr::devcluster {

namespace {

const std::vector<std::string> all_verbs{"create", "delete", "deletecollection",
                                         "get",    "list",   "patch",
                                         "update", "watch"};
const std::vector<std::string> status_verbs{"get", "patch", "update"};

} // namespace

bool resource_type::allows_field(std::string_view field) const {
  if (field == "metadata.name" || (namespaced && field == "metadata.namespace"))
    return true;
  return std::find(selectable_fields.begin(), selectable_fields.end(), field)
         != selectable_fields.end();
}

resource_type& resource_registry::add(resource_type t) {
  t.id = types_.size();
  if (t.verbs.empty())
    t.verbs = all_verbs;
  return types_.emplace_back(std::move(t));
}

resource_registry::resource_registry() {
  // core/v1
  {
    resource_type t;
    t.version = "v1";
    t.resource = "namespaces";
    t.singular = "namespace";
    t.kind = "Namespace";
    t.namespaced = false;
    t.has_status = true;
    t.names = name_rule::dns1123_label;
    t.verbs = {"create", "delete", "get", "list", "patch", "update", "watch"};
    t.short_names = {"ns"};
    t.selectable_fields = {"status.phase"};
    t.subresources = {{"finalize", "", "v1", "Namespace", {"update"}},
                      {"status", "", "v1", "Namespace", status_verbs}};
    add(std::move(t));
  }
  {
    resource_type t;
    t.version = "v1";
    t.resource = "configmaps";
    t.singular = "configmap";
    t.kind = "ConfigMap";
    t.short_names = {"cm"};
    add(std::move(t));
  }
  {
    resource_type t;
    t.version = "v1";
    t.resource = "secrets";
    t.singular = "secret";
    t.kind = "Secret";
    t.selectable_fields = {"type"};
    add(std::move(t));
  }
  {
    resource_type t;
    t.version = "v1";
    t.resource = "pods";
    t.singular = "pod";
    t.kind = "Pod";
    t.has_status = true;
    t.delete_returns_object = true;
    t.short_names = {"po"};
    t.categories = {"all"};
    t.selectable_fields = {"spec.nodeName",
                           "spec.restartPolicy",
                           "spec.schedulerName",
                           "spec.serviceAccountName",
                           "spec.hostNetwork",
                           "status.phase",
                           "status.podIP",
                           "status.podIPs",
                           "status.nominatedNodeName"};
    t.subresources = {{"status", "", "v1", "Pod", status_verbs}};
    add(std::move(t));
  }
  {
    // Stored only (no kubelet): tests create Nodes for pod-bound tokens'
    // node claims and Ambient's node checks, as on a real cluster.
    resource_type t;
    t.version = "v1";
    t.resource = "nodes";
    t.singular = "node";
    t.kind = "Node";
    t.namespaced = false;
    t.has_status = true;
    t.short_names = {"no"};
    t.subresources = {{"status", "", "v1", "Node", status_verbs}};
    add(std::move(t));
  }
  {
    resource_type t;
    t.version = "v1";
    t.resource = "serviceaccounts";
    t.singular = "serviceaccount";
    t.kind = "ServiceAccount";
    t.create_on_update = true;
    t.short_names = {"sa"};
    t.subresources
      = {{"token", "authentication.k8s.io", "v1", "TokenRequest", {"create"}}};
    add(std::move(t));
  }
  {
    resource_type t;
    t.version = "v1";
    t.resource = "events";
    t.singular = "event";
    t.kind = "Event";
    t.create_on_update = true;
    t.names = name_rule::path_segment;
    t.short_names = {"ev"};
    t.selectable_fields = {"involvedObject.kind",
                           "involvedObject.namespace",
                           "involvedObject.name",
                           "involvedObject.uid",
                           "involvedObject.apiVersion",
                           "involvedObject.resourceVersion",
                           "involvedObject.fieldPath",
                           "reason",
                           "reportingComponent",
                           "source",
                           "type"};
    add(std::move(t));
  }
  // coordination.k8s.io/v1
  {
    resource_type t;
    t.group = "coordination.k8s.io";
    t.version = "v1";
    t.resource = "leases";
    t.singular = "lease";
    t.kind = "Lease";
    t.create_on_update = true;
    add(std::move(t));
  }
  // authentication.k8s.io/v1
  {
    resource_type t;
    t.group = "authentication.k8s.io";
    t.version = "v1";
    t.resource = "tokenreviews";
    t.singular = "tokenreview";
    t.kind = "TokenReview";
    t.namespaced = false;
    t.stored = false;
    t.verbs = {"create"};
    add(std::move(t));
  }
  {
    resource_type t;
    t.group = "authentication.k8s.io";
    t.version = "v1";
    t.resource = "selfsubjectreviews";
    t.singular = "selfsubjectreview";
    t.kind = "SelfSubjectReview";
    t.namespaced = false;
    t.stored = false;
    t.verbs = {"create"};
    add(std::move(t));
  }
  // authorization.k8s.io/v1
  {
    resource_type t;
    t.group = "authorization.k8s.io";
    t.version = "v1";
    t.resource = "selfsubjectaccessreviews";
    t.singular = "selfsubjectaccessreview";
    t.kind = "SelfSubjectAccessReview";
    t.namespaced = false;
    t.stored = false;
    t.verbs = {"create"};
    add(std::move(t));
  }
  // cert-manager.io/v1
  auto cr = [&](std::string resource, std::string singular, std::string kind,
                bool namespaced, std::vector<std::string> short_names) {
    resource_type t;
    t.group = "cert-manager.io";
    t.version = "v1";
    t.resource = std::move(resource);
    t.singular = std::move(singular);
    t.kind = std::move(kind);
    t.namespaced = namespaced;
    t.custom = true;
    t.has_status = true;
    t.has_generation = true;
    t.short_names = std::move(short_names);
    t.categories = {"cert-manager"};
    t.subresources
      = {{"status", "cert-manager.io", "v1", t.kind, status_verbs}};
    add(std::move(t));
  };
  cr("certificaterequests", "certificaterequest", "CertificateRequest", true,
     {"cr", "crs"});
  cr("certificates", "certificate", "Certificate", true, {"cert", "certs"});
  cr("issuers", "issuer", "Issuer", true, {});
  cr("clusterissuers", "clusterissuer", "ClusterIssuer", false, {});
}

const resource_type* resource_registry::find(std::string_view group,
                                             std::string_view version,
                                             std::string_view resource) const {
  for (auto& t : types_)
    if (t.group == group && t.version == version && t.resource == resource)
      return &t;
  return nullptr;
}

const resource_type& resource_registry::core(std::string_view resource) const {
  if (auto* t = find("", "v1", resource))
    return *t;
  throw std::logic_error("unknown core resource");
}

std::vector<std::string> resource_registry::groups() const {
  std::vector<std::string> out;
  for (auto& t : types_)
    if (!t.group.empty()
        && std::find(out.begin(), out.end(), t.group) == out.end())
      out.push_back(t.group);
  return out;
}

} // namespace istio_csr::devcluster
