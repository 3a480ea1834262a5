#define CAF_SUITE kube.request
#include "caf/test/unit_test.hpp"

#include "kube/client/request.hpp"

using namespace istio_csr::kube;
using json = nlohmann::json;

CAF_TEST(paths of core and group resources) {
  CAF_CHECK_EQUAL(request::get(resources::configmaps, "ns", "cm").target(),
                  "/api/v1/namespaces/ns/configmaps/cm");
  CAF_CHECK_EQUAL(request::get(resources::namespaces, "", "ns").target(),
                  "/api/v1/namespaces/ns");
  CAF_CHECK_EQUAL(request::list_of(resources::pods, "").target(),
                  "/api/v1/pods");
  CAF_CHECK_EQUAL(request::list_of(resources::leases, "kube-system").target(),
                  "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases");
  CAF_CHECK_EQUAL(request::create(resources::tokenreviews, "", json{}).target(),
                  "/apis/authentication.k8s.io/v1/tokenreviews");
  CAF_CHECK_EQUAL(
    request::create(resources::certificaterequests, "",
                    json{{"metadata", {{"namespace", "istio-system"}}}})
      .target(),
    "/apis/cert-manager.io/v1/namespaces/istio-system/certificaterequests");
  CAF_CHECK_EQUAL(request::get(resources::clusterissuers, "", "ca").target(),
                  "/apis/cert-manager.io/v1/clusterissuers/ca");
  CAF_CHECK_EQUAL(request::create_subresource(resources::serviceaccounts, "ns",
                                              "sa", "token", json{})
                    .target(),
                  "/api/v1/namespaces/ns/serviceaccounts/sa/token");
  auto cr = json{{"metadata", {{"namespace", "ns"}, {"name", "x"}}}};
  auto st = request::update_status(resources::certificaterequests, cr);
  CAF_CHECK_EQUAL(st.http_method(), "PUT");
  CAF_CHECK_EQUAL(st.target(),
                  "/apis/cert-manager.io/v1/namespaces/ns/certificaterequests/"
                  "x/status");
}

CAF_TEST(list and watch query parameters are encoded) {
  list_options lo;
  lo.label_selector = "app in (a,b),!skip,env!=prod";
  lo.field_selector = "metadata.name=x";
  lo.limit = 100;
  lo.continue_token = "tok+/=";
  auto t = request::list_of(resources::pods, "ns", lo).target();
  CAF_CHECK_EQUAL(t, "/api/v1/namespaces/ns/pods"
                     "?labelSelector=app%20in%20%28a%2Cb%29%2C%21skip%2Cenv%"
                     "21%3Dprod&fieldSelector=metadata.name%3Dx&limit=100"
                     "&continue=tok%2B%2F%3D");
  list_options wo;
  wo.resource_version = "42";
  wo.timeout_seconds = 300;
  wo.allow_watch_bookmarks = true;
  wo.limit = 5; // ignored for watches
  CAF_CHECK_EQUAL(request::watch(resources::configmaps, "", wo).target(),
                  "/api/v1/configmaps?watch=true&resourceVersion=42"
                  "&timeoutSeconds=300&allowWatchBookmarks=true");
}

CAF_TEST(bodies and content types) {
  auto patch = request::merge_patch(resources::configmaps, "ns", "cm",
                                    json{{"data", {{"a", nullptr}}}});
  CAF_CHECK_EQUAL(patch.http_method(), "PATCH");
  CAF_CHECK_EQUAL(patch.content_type(), "application/merge-patch+json");
  CAF_CHECK_EQUAL(patch.body_text(), R"({"data":{"a":null}})");
  auto del = request::remove(resources::configmaps, "ns", "cm",
                             delete_options{"uid-1", "7", "Background", {}});
  CAF_CHECK_EQUAL(del.http_method(), "DELETE");
  CAF_CHECK_EQUAL(json::parse(del.body_text()),
                  json::parse(R"({"kind":"DeleteOptions","apiVersion":"v1",
                    "preconditions":{"uid":"uid-1","resourceVersion":"7"},
                    "propagationPolicy":"Background"})"));
  CAF_CHECK_EQUAL(
    request::remove(resources::configmaps, "ns", "cm").body_text(), "");
  CAF_CHECK_EQUAL(request::get(resources::configmaps, "ns", "cm").body_text(),
                  "");
  auto create = request::create(resources::configmaps, "ns", json{{"a", 1}});
  create.field_manager = "istio-csr";
  CAF_CHECK_EQUAL(create.target(),
                  "/api/v1/namespaces/ns/configmaps?fieldManager=istio-csr");
}

CAF_TEST(url encoding) {
  CAF_CHECK_EQUAL(url_encode("a-b_c.d~"), "a-b_c.d~");
  CAF_CHECK_EQUAL(url_encode("a b/c?d&e=f"), "a%20b%2Fc%3Fd%26e%3Df");
  CAF_CHECK_EQUAL(url_encode("\xff"), "%FF");
}
