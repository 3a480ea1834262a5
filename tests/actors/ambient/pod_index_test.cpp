// The pod index and its records: what is kept of a pod, how pods are
// counted per (service account, node), and that names are freed.

#define CAF_SUITE ambient.pod_index

#include "caf/test/unit_test.hpp"

#include <string>

#include "actors/ambient/trusted_accounts.hpp"
#include "tests/actors/ambient/fixture.hpp"

using namespace istio_csr::test::ambient;

namespace {

std::string str(std::string_view x) {
  return std::string{x};
}

} // namespace

CAF_TEST(a record keeps exactly the six fields) {
  auto pod = pod_same_node.object();
  auto record = amb::make_pod_record(pod);
  CAF_REQUIRE(record.is_string());
  auto f = amb::read_pod_record(record);
  CAF_REQUIRE(f.has_value());
  CAF_CHECK_EQUAL(str(f->namespace_), "ns-a");
  CAF_CHECK_EQUAL(str(f->name), "pod-a");
  CAF_CHECK_EQUAL(str(f->uid), "1");
  CAF_CHECK_EQUAL(str(f->service_account), "sa-a");
  CAF_CHECK_EQUAL(str(f->node), "zt-node");
  CAF_CHECK_EQUAL(str(f->phase), "Running");
  // Labels, annotations, containers and status fields are gone.
  CAF_CHECK_LESS(record.get_ref<const std::string&>().size(), 40u);
  // A pod without spec or status: empty fields.
  auto bare = amb::make_pod_record(
    {{"metadata", {{"name", "p"}, {"namespace", "n"}, {"uid", "u"}}}});
  auto b = amb::read_pod_record(bare);
  CAF_REQUIRE(b.has_value());
  CAF_CHECK_EQUAL(str(b->name), "p");
  CAF_CHECK(b->node.empty() && b->service_account.empty() && b->phase.empty());
}

CAF_TEST(a hostile separator in a value cannot shift the fields) {
  auto pod = pod_same_node.object();
  pod["spec"]["nodeName"] = "zt\x1fnode";
  // The record owns the text the fields view.
  auto record = amb::make_pod_record(pod);
  auto f = amb::read_pod_record(record);
  CAF_REQUIRE(f.has_value());
  CAF_CHECK_EQUAL(str(f->node), "ztnode");
  CAF_CHECK_EQUAL(str(f->phase), "Running");
}

CAF_TEST(what is no record is rejected) {
  const auto object = nlohmann::json::object();
  const nlohmann::json too_few("a\x1f"
                               "b");
  const nlohmann::json too_many("1\x1f"
                                "2\x1f"
                                "3\x1f"
                                "4\x1f"
                                "5\x1f"
                                "6\x1f"
                                "7");
  CAF_CHECK(!amb::read_pod_record(object));
  CAF_CHECK(!amb::read_pod_record(too_few));
  CAF_CHECK(!amb::read_pod_record(too_many));
  amb::pod_index index;
  CAF_CHECK(!index.upsert(std::make_shared<const nlohmann::json>(
    nlohmann::json{{"metadata", {{"name", "x"}}}})));
  CAF_CHECK(!index.upsert(nullptr));
  CAF_CHECK_EQUAL(index.size(), 0u);
}

CAF_TEST(pods are found by namespace and name) {
  amb::pod_index index;
  index.upsert(ztunnel_pod.record());
  index.upsert(pod_same_node.record());
  CAF_CHECK_EQUAL(index.size(), 2u);
  auto zt = index.find("istio-system", "ztunnel-a");
  CAF_REQUIRE(zt.has_value());
  CAF_CHECK_EQUAL(str(zt->uid), "12345");
  CAF_CHECK_EQUAL(str(zt->node), "zt-node");
  CAF_CHECK(!index.find("istio-system", "pod-a"));
  CAF_CHECK(!index.find("ns-a", "ztunnel-a"));
  CAF_CHECK(!index.find("", ""));
}

CAF_TEST(counts follow adds updates and deletes) {
  amb::pod_index index;
  index.upsert(pod_same_node.record());
  index.upsert(pod_other_node.record());
  CAF_CHECK_EQUAL(index.count_on_node("ns-a", "sa-a", "zt-node"), 1u);
  CAF_CHECK_EQUAL(index.count_on_node("ns-a", "sa-a", "other-node"), 1u);
  CAF_CHECK_EQUAL(index.count_on_node("ns-a", "sa-b", "zt-node"), 0u);
  CAF_CHECK_EQUAL(index.count_on_node("ns-b", "sa-a", "zt-node"), 0u);
  // A second pod of the account on the same node.
  auto second = pod_same_node;
  second.name = "pod-a2";
  index.upsert(second.record());
  CAF_CHECK_EQUAL(index.count_on_node("ns-a", "sa-a", "zt-node"), 2u);
  // The same record again changes nothing.
  index.upsert(second.record());
  CAF_CHECK_EQUAL(index.count_on_node("ns-a", "sa-a", "zt-node"), 2u);
  CAF_CHECK_EQUAL(index.size(), 3u);
  // An update moving pod-b to zt-node.
  auto moved = pod_other_node;
  moved.node = "zt-node";
  index.upsert(moved.record());
  CAF_CHECK_EQUAL(index.count_on_node("ns-a", "sa-a", "zt-node"), 3u);
  CAF_CHECK_EQUAL(index.count_on_node("ns-a", "sa-a", "other-node"), 0u);
  // Deletes, by name or by record.
  CAF_CHECK(index.erase("ns-a", "pod-a"));
  CAF_CHECK(!index.erase("ns-a", "pod-a"));
  CAF_CHECK(index.erase(*second.record()));
  CAF_CHECK_EQUAL(index.count_on_node("ns-a", "sa-a", "zt-node"), 1u);
  CAF_CHECK(index.erase(*moved.record()));
  CAF_CHECK_EQUAL(index.count_on_node("ns-a", "sa-a", "zt-node"), 0u);
  CAF_CHECK_EQUAL(index.size(), 0u);
  CAF_CHECK_EQUAL(index.pairs(), 0u);
}

CAF_TEST(failed and unscheduled pods are kept but not counted) {
  amb::pod_index index;
  auto p = pod_same_node;
  p.phase = "Failed";
  index.upsert(p.record());
  CAF_CHECK(index.find("ns-a", "pod-a").has_value());
  CAF_CHECK_EQUAL(index.count_on_node("ns-a", "sa-a", "zt-node"), 0u);
  // Failed -> Running counts, Running -> Failed stops counting.
  p.phase = "Running";
  index.upsert(p.record());
  CAF_CHECK_EQUAL(index.count_on_node("ns-a", "sa-a", "zt-node"), 1u);
  p.phase = "Failed";
  index.upsert(p.record());
  CAF_CHECK_EQUAL(index.count_on_node("ns-a", "sa-a", "zt-node"), 0u);
  // No node yet, then scheduled.
  auto q = pod_same_node;
  q.name = "pending";
  q.node.clear();
  q.phase = "Pending";
  index.upsert(q.record());
  CAF_CHECK_EQUAL(index.count_on_node("ns-a", "sa-a", ""), 0u);
  q.node = "zt-node";
  index.upsert(q.record());
  CAF_CHECK_EQUAL(index.count_on_node("ns-a", "sa-a", "zt-node"), 1u);
  // No service account: not counted.
  auto r = pod_same_node;
  r.name = "no-sa";
  r.account.clear();
  index.upsert(r.record());
  CAF_CHECK_EQUAL(index.count_on_node("ns-a", "", "zt-node"), 0u);
  CAF_CHECK_EQUAL(index.size(), 3u);
}

CAF_TEST(names are freed when their last pod goes) {
  amb::pod_index index;
  for (int i = 0; i < 100; ++i) {
    auto p = pod_same_node;
    p.name = "pod-" + std::to_string(i);
    p.node = "node-" + std::to_string(i % 10);
    index.upsert(p.record());
  }
  // ns-a, sa-a, node-0..9.
  CAF_CHECK_EQUAL(index.names(), 12u);
  CAF_CHECK_EQUAL(index.pairs(), 10u);
  for (int i = 0; i < 100; ++i)
    index.erase("ns-a", "pod-" + std::to_string(i));
  CAF_CHECK_EQUAL(index.names(), 0u);
  CAF_CHECK_EQUAL(index.pairs(), 0u);
  // Ids are reused: counts stay right after churn.
  index.upsert(pod_other_node.record());
  index.upsert(ztunnel_pod.record());
  CAF_CHECK_EQUAL(index.count_on_node("ns-a", "sa-a", "other-node"), 1u);
  CAF_CHECK_EQUAL(index.count_on_node("istio-system", "ztunnel", "zt-node"),
                  1u);
  CAF_CHECK_EQUAL(index.count_on_node("ns-a", "sa-a", "zt-node"), 0u);
  index.clear();
  CAF_CHECK_EQUAL(index.size(), 0u);
  CAF_CHECK_EQUAL(index.names(), 0u);
}

CAF_TEST(a name used as namespace account and node at once) {
  // One interned name serves every role; releasing one role keeps it.
  amb::pod_index index;
  test_pod a{"a", "x", "x", "u1", "x"};
  test_pod b{"b", "x", "y", "u2", "x"};
  index.upsert(a.record());
  index.upsert(b.record());
  CAF_CHECK_EQUAL(index.count_on_node("x", "x", "x"), 1u);
  CAF_CHECK_EQUAL(index.count_on_node("x", "y", "x"), 1u);
  index.erase("x", "a");
  CAF_CHECK_EQUAL(index.count_on_node("x", "x", "x"), 0u);
  CAF_CHECK_EQUAL(index.count_on_node("x", "y", "x"), 1u);
  CAF_CHECK_EQUAL(index.names(), 2u);
}

CAF_TEST(trusted accounts parse as istiod) {
  auto t = amb::trusted_accounts::parse(
    {"istio-system/ztunnel", "bad", "", "ns/sa/extra", "other/zt"});
  CAF_CHECK(t.contains("istio-system", "ztunnel"));
  CAF_CHECK(t.contains("other", "zt"));
  CAF_CHECK(t.contains("ns", "sa/extra"));
  CAF_CHECK(!t.contains("istio-system", "zt"));
  CAF_CHECK(!t.contains("ztunnel", "istio-system"));
  CAF_CHECK_EQUAL(t.accounts().size(), 3u);
  CAF_CHECK_EQUAL(t.ignored(), std::vector<std::string>({"bad", ""}));
  CAF_CHECK_EQUAL(t.to_string(), "istio-system/ztunnel,ns/sa/extra,other/zt");
  CAF_CHECK(amb::trusted_accounts::parse({"nope"}).empty());
  CAF_CHECK(amb::trusted_accounts::parse({}).empty());
}
