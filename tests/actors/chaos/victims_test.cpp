// Which actors chaos mode may kill, and the seeded choice among them.
#define CAF_SUITE actors.chaos_victims

#include "caf/test/unit_test.hpp"

#include <map>

#include "actors/chaos/victims.hpp"

using namespace istio_csr;
using namespace istio_csr::actors::chaos;
using introspection::tree_node;

using strings = std::vector<std::string>;

namespace {

tree_node node(std::string name, bool supervisor = false,
               std::vector<tree_node> children = {}, bool running = true) {
  tree_node n;
  n.name = std::move(name);
  n.supervisor = supervisor;
  n.running = running;
  n.children = std::move(children);
  return n;
}

/// root: csr-signer-1, csr-signer-0, leader-election (owning leader:
/// namespace-watcher owning configmap: configmap/a, configmap/b), cr-watcher
/// (not running).
tree_node sample() {
  auto t = node(
    "root", true,
    {node("csr-signer-1"), node("csr-signer-0"),
     node("leader-election", false,
          {node("leader", true,
                {node("namespace-watcher", false,
                      {node("configmap", true,
                            {node("configmap/a"), node("configmap/b")})})})}),
     node("cr-watcher", false, {}, false)});
  introspection::assign_paths(t);
  return t;
}

strings paths(const tree_node& t, victim_filter f) {
  strings result;
  for (auto* n : eligible(t, f))
    result.push_back(n->path);
  return result;
}

} // namespace

CAF_TEST(every running actor but supervisors by default sorted by path) {
  auto t = sample();
  CAF_CHECK_EQUAL(
    paths(t, {}),
    strings({"root/csr-signer-0", "root/csr-signer-1", "root/leader-election",
             "root/leader-election/leader/namespace-watcher",
             "root/leader-election/leader/namespace-watcher/"
             "configmap/configmap/a",
             "root/leader-election/leader/namespace-watcher/"
             "configmap/configmap/b"}));
  // Supervisors when asked, never the root.
  victim_filter sups;
  sups.include_supervisors = true;
  auto all = paths(t, sups);
  CAF_CHECK_EQUAL(all.size(), 8u);
  CAF_CHECK(std::find(all.begin(), all.end(), "root/leader-election/leader")
            != all.end());
  CAF_CHECK(std::find(all.begin(), all.end(), "root") == all.end());
}

CAF_TEST(patterns match the path or the name) {
  auto t = sample();
  auto only = [&](strings patterns, bool supervisors = false) {
    victim_filter f;
    f.patterns = std::move(patterns);
    f.include_supervisors = supervisors;
    return paths(t, f);
  };
  CAF_CHECK_EQUAL(only({"csr-signer-*"}),
                  strings({"root/csr-signer-0", "root/csr-signer-1"}));
  CAF_CHECK_EQUAL(only({"root/csr-signer-[!0]"}),
                  strings({"root/csr-signer-1"}));
  // Names with a '/' match as a whole; '*' crosses '/'.
  CAF_CHECK_EQUAL(only({"configmap/*"}),
                  strings({"root/leader-election/leader/namespace-watcher/"
                           "configmap/configmap/a",
                           "root/leader-election/leader/namespace-watcher/"
                           "configmap/configmap/b"}));
  CAF_CHECK_EQUAL(only({"root/leader-election/*"}).size(), 3u);
  CAF_CHECK_EQUAL(only({"configmap"}), strings({}));
  CAF_CHECK_EQUAL(only({"configmap"}, true),
                  strings({"root/leader-election/leader/namespace-watcher/"
                           "configmap"}));
  CAF_CHECK_EQUAL(only({"root"}, true), strings({}));
  CAF_CHECK_EQUAL(only({"cr-watcher"}), strings({})); // not running
  CAF_CHECK_EQUAL(only({"nothing", "csr-signer-1"}),
                  strings({"root/csr-signer-1"}));
}

CAF_TEST(picks are uniform and fixed by the seed) {
  // The standard fixes mt19937_64's output (its 10000th number from the
  // default seed is 9981545732273789042), and pick uses nothing else.
  std::mt19937_64 reference;
  reference.discard(9999);
  CAF_CHECK_EQUAL(reference(), 9981545732273789042ull);
  std::mt19937_64 a{42};
  std::mt19937_64 b{42};
  std::mt19937_64 raw{42};
  std::map<size_t, int> counts;
  for (int i = 0; i < 6000; ++i) {
    auto x = pick(a, 6);
    CAF_REQUIRE_LESS(x, 6u);
    CAF_CHECK_EQUAL(x, pick(b, 6));
    ++counts[x];
  }
  // Rejection is rare: the first picks are the raw numbers modulo n.
  std::mt19937_64 c{42};
  CAF_CHECK_EQUAL(pick(c, 6), raw() % 6);
  for (auto& [value, count] : counts)
    CAF_CHECK(count > 850 && count < 1150);
  std::mt19937_64 d{1};
  CAF_CHECK_EQUAL(pick(d, 1), 0u);
}
