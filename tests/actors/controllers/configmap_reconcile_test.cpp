// Upstream pkg/controller/configmap_test.go Test_Reconcile
// (docs/upstream.md §9.1) on the pure decisions: which namespaces get the
// ConfigMap and what is written. The same cases run against devcluster in
// configmap_cluster_test.

#define CAF_SUITE controllers.configmap_reconcile

#include "caf/test/unit_test.hpp"

#include <nlohmann/json.hpp>

#include "actors/controllers/cache_records.hpp"
#include "actors/controllers/root_cert.hpp"
#include "kube/api/label_selector.hpp"

using namespace istio_csr;
using namespace istio_csr::actors::controllers;
using json = nlohmann::json;
using action = root_cert_plan::action;

// Compares JSON through its text: CAF's printer does not know json.
#define CHECK_JSON(x, y) CAF_CHECK_EQUAL((x).dump(), json(y).dump())

namespace {

const std::string roots = "root-ca";

kube::label_selector selector(const std::string& text) {
  auto sel = kube::label_selector::parse(text);
  if (!sel)
    CAF_FAIL("bad selector " << text);
  return std::move(*sel);
}

json namespace_object(const std::string& name, json labels,
                      const std::string& phase = "Active") {
  return json{{"apiVersion", "v1"},
              {"kind", "Namespace"},
              {"metadata", {{"name", name}, {"labels", std::move(labels)}}},
              {"status", {{"phase", phase}}}};
}

json config_map(json labels, json data) {
  json cm{{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata",
           {{"name", "istio-ca-root-cert"},
            {"namespace", "test-ns"},
            {"resourceVersion", "7"},
            {"uid", "u-1"},
            {"labels", std::move(labels)}}}};
  if (!data.is_null())
    cm["data"] = std::move(data);
  return cm;
}

const json enabled = {{"istio-csr-injection", "enabled"}};

/// The object of `record`, after checking that it is a record of `key`.
json read_back(const json& record, const std::string& key) {
  CAF_REQUIRE(record.is_string());
  CAF_CHECK_EQUAL(record_key(record), key);
  auto back = read_record(record);
  CAF_REQUIRE(back.has_value());
  return std::move(*back);
}

} // namespace

CAF_TEST(a missing namespace gets nothing) {
  auto sel = selector("istio-csr-injection=enabled");
  CAF_CHECK(!namespace_selected(nullptr, sel));
}

CAF_TEST(a terminating namespace gets nothing) {
  auto sel = selector("istio-csr-injection=enabled");
  auto ns = namespace_object("test-ns", enabled, "Terminating");
  CAF_CHECK(!namespace_selected(&ns, sel));
  // A deletion timestamp alone counts too (the phase may lag).
  auto deleting = namespace_object("test-ns", enabled);
  deleting["metadata"]["deletionTimestamp"] = "2024-05-01T10:00:00Z";
  CAF_CHECK(!namespace_selected(&deleting, sel));
  auto active = namespace_object("test-ns", enabled);
  CAF_CHECK(namespace_selected(&active, sel));
}

CAF_TEST(a namespace not matching the selector gets nothing) {
  auto sel = selector("istio-csr-injection=enabled");
  auto none = namespace_object("test-ns", json::object());
  auto other = namespace_object("test-ns", {{"istio-csr-injection", "off"}});
  CAF_CHECK(!namespace_selected(&none, sel));
  CAF_CHECK(!namespace_selected(&other, sel));
  // The empty selector takes every namespace.
  CAF_CHECK(namespace_selected(&none, selector("")));
}

CAF_TEST(the full selector syntax selects namespaces) {
  auto a = namespace_object("a", {{"env", "prod"}, {"mesh", "yes"}});
  auto b = namespace_object("b", {{"env", "dev"}});
  auto c = namespace_object("c", {{"env", "prod"}, {"legacy", "1"}});
  auto in = selector("env in (prod, staging),!legacy");
  CAF_CHECK(namespace_selected(&a, in));
  CAF_CHECK(!namespace_selected(&b, in));
  CAF_CHECK(!namespace_selected(&c, in));
  auto notin = selector("env notin (dev),mesh");
  CAF_CHECK(namespace_selected(&a, notin));
  CAF_CHECK(!namespace_selected(&b, notin));
  CAF_CHECK(!namespace_selected(&c, notin));
  auto ne = selector("env!=dev");
  CAF_CHECK(namespace_selected(&c, ne));
  CAF_CHECK(!namespace_selected(&b, ne));
}

CAF_TEST(no config map is created with the label and the root) {
  auto plan = plan_root_cert("test-ns", nullptr, roots);
  CAF_REQUIRE(plan.act == action::create);
  auto& obj = plan.object;
  CHECK_JSON(obj.at("apiVersion"), "v1");
  CHECK_JSON(obj.at("kind"), "ConfigMap");
  CHECK_JSON(obj.at("metadata").at("name"), "istio-ca-root-cert");
  CHECK_JSON(obj.at("metadata").at("namespace"), "test-ns");
  CHECK_JSON(obj.at("metadata").at("labels"),
             json({{"istio.io/config", "true"}}));
  CHECK_JSON(obj.at("data"), json({{"root-cert.pem", "root-ca"}}));
}

CAF_TEST(a config map with nil data is updated) {
  auto cm = config_map({{"istio.io/config", "true"}}, nullptr);
  auto plan = plan_root_cert("test-ns", &cm, roots);
  CAF_REQUIRE(plan.act == action::update);
  CHECK_JSON(plan.object.at("data"), json({{"root-cert.pem", "root-ca"}}));
  // Optimistic concurrency: the update carries what was read.
  CHECK_JSON(plan.object.at("metadata").at("resourceVersion"), "7");
  CHECK_JSON(plan.object.at("metadata").at("uid"), "u-1");
}

CAF_TEST(wrong data is updated) {
  auto cm = config_map({{"istio.io/config", "true"}},
                       {{"root-cert.pem", "not-root-ca"}});
  auto plan = plan_root_cert("test-ns", &cm, roots);
  CAF_REQUIRE(plan.act == action::update);
  CHECK_JSON(plan.object.at("data"), json({{"root-cert.pem", "root-ca"}}));
}

CAF_TEST(an extra key is removed) {
  auto cm = config_map({{"istio.io/config", "true"}},
                       {{"root-cert.pem", "root-ca"}, {"foo", "bar"}});
  auto plan = plan_root_cert("test-ns", &cm, roots);
  CAF_REQUIRE(plan.act == action::update);
  CHECK_JSON(plan.object.at("data"), json({{"root-cert.pem", "root-ca"}}));
}

CAF_TEST(a false label plus an extra key is fixed) {
  auto cm = config_map({{"istio.io/config", "false"}},
                       {{"root-cert.pem", "root-ca"}, {"foo", "bar"}});
  auto plan = plan_root_cert("test-ns", &cm, roots);
  CAF_REQUIRE(plan.act == action::update);
  CHECK_JSON(plan.object.at("data"), json({{"root-cert.pem", "root-ca"}}));
  CHECK_JSON(plan.object.at("metadata").at("labels"),
             json({{"istio.io/config", "true"}}));
}

CAF_TEST(a missing label alone is added) {
  auto cm = config_map(nullptr, {{"root-cert.pem", "root-ca"}});
  cm["metadata"].erase("labels");
  auto plan = plan_root_cert("test-ns", &cm, roots);
  CAF_REQUIRE(plan.act == action::update);
  CHECK_JSON(plan.object.at("metadata").at("labels"),
             json({{"istio.io/config", "true"}}));
  CHECK_JSON(plan.object.at("data"), json({{"root-cert.pem", "root-ca"}}));
}

CAF_TEST(a correct config map is untouched) {
  auto cm
    = config_map({{"istio.io/config", "true"}}, {{"root-cert.pem", "root-ca"}});
  auto plan = plan_root_cert("test-ns", &cm, roots);
  CAF_CHECK(plan.act == action::none);
  CAF_CHECK(plan_root_cert("test-ns", nullptr, roots).act == action::create);
}

CAF_TEST(a correct config map with extra labels is untouched) {
  auto cm = config_map({{"istio.io/config", "true"}, {"foo", "bar"}},
                       {{"root-cert.pem", "root-ca"}});
  cm["binaryData"] = {{"blob", "AAEC"}};
  cm["metadata"]["annotations"] = {{"a", "b"}};
  auto plan = plan_root_cert("test-ns", &cm, roots);
  CAF_CHECK(plan.act == action::none);
}

CAF_TEST(an update keeps other labels annotations and binary data) {
  auto cm = config_map({{"istio.io/config", "yes"}, {"team", "mesh"}},
                       {{"root-cert.pem", "old"}});
  cm["binaryData"] = {{"blob", "AAEC"}};
  cm["metadata"]["annotations"] = {{"a", "b"}};
  auto plan = plan_root_cert("test-ns", &cm, roots);
  CAF_REQUIRE(plan.act == action::update);
  auto& obj = plan.object;
  CHECK_JSON(obj.at("metadata").at("labels"),
             json({{"istio.io/config", "true"}, {"team", "mesh"}}));
  CHECK_JSON(obj.at("metadata").at("annotations"), json({{"a", "b"}}));
  CHECK_JSON(obj.at("binaryData"), json({{"blob", "AAEC"}}));
  CHECK_JSON(obj.at("data"), json({{"root-cert.pem", "root-ca"}}));
}

CAF_TEST(the namespace cache keeps what the selection reads) {
  auto full = namespace_object("test-ns", enabled);
  full["metadata"]["uid"] = "u-1";
  full["metadata"]["resourceVersion"] = "9";
  full["metadata"]["annotations"] = {{"a", "b"}};
  full["spec"] = {{"finalizers", {"kubernetes"}}};
  auto compact = json({{"metadata", {{"name", "test-ns"}, {"labels", enabled}}},
                       {"status", {{"phase", "Active"}}}});
  CHECK_JSON(compact_namespace(full), compact);
  CHECK_JSON(read_back(make_namespace_record(full), "test-ns"), compact);
  auto sel = selector("istio-csr-injection=enabled");
  auto deleting = namespace_object("test-ns", enabled);
  deleting["metadata"]["deletionTimestamp"] = "2024-05-01T10:00:00Z";
  for (auto& ns : {namespace_object("test-ns", enabled),
                   namespace_object("test-ns", enabled, "Terminating"),
                   namespace_object("test-ns", json::object()), deleting}) {
    auto obj = read_record(make_namespace_record(ns));
    CAF_REQUIRE(obj.has_value());
    CAF_CHECK_EQUAL(namespace_selected(&*obj, sel),
                    namespace_selected(&ns, sel));
  }
  CHECK_JSON(compact_namespace(json::object()), json::object());
}

CAF_TEST(the configmap cache keeps the whole object in a record) {
  auto cm = config_map({{"istio.io/config", "true"}, {"other", "x"}},
                       {{"root-cert.pem", "-----BEGIN CERTIFICATE-----\n"}});
  cm["metadata"]["annotations"] = {{"note", "\u00e9t\u00e9"}};
  cm["metadata"]["generation"] = 3;
  cm["binaryData"] = {{"b", "AAEC"}};
  auto with_fields = cm;
  with_fields["metadata"]["managedFields"] = json::array({{{"manager", "m"}}});
  auto back = read_back(make_config_map_record(with_fields), "test-ns");
  CHECK_JSON(back, cm);
  // The plan from a record is the plan from the object.
  auto plan = plan_root_cert("test-ns", &back, roots);
  auto direct = plan_root_cert("test-ns", &cm, roots);
  CAF_CHECK(plan.act == direct.act);
  CHECK_JSON(plan.object, direct.object);
  // Anything else is no record.
  CAF_CHECK(!read_record(cm).has_value());
  CAF_CHECK(!read_record(json("no separator")).has_value());
  CAF_CHECK(!read_record(json("ns\x1f{")).has_value());
  CAF_CHECK(!read_record(json("ns\x1f[1]")).has_value());
  CAF_CHECK_EQUAL(record_key(cm), "");
  CAF_CHECK_EQUAL(record_key(json("no separator")), "");
}
