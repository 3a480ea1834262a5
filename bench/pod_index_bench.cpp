// bench_pod_index: the Ambient pod index at scale (50,000 pods on 1,000
// nodes). Self-timed with std::chrono, repeated runs, median reported.
//
//   cmake -B build-release -DCMAKE_BUILD_TYPE=Release
//   cmake --build build-release -j2 --target bench_pod_index
//   build-release/bin/bench_pod_index [--pods N] [--nodes N] [--runs N]
//
// Measures what the agent holds per pod (the informer cache with compact
// records plus the index; a stripped-JSON cache for comparison), the
// latency of a node-authorization check done directly, under a shared
// lock (the "shared snapshot" design) and as a request to the pod-index
// actor (the design we use), and how long the actor takes to apply a full
// list. Results go to docs/benchmarks.md.

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/scoped_actor.hpp"
#include "caf/send.hpp"

#include "actors/ambient/messages.hpp"
#include "actors/ambient/node_authorizer.hpp"
#include "actors/ambient/pod_index.hpp"
#include "actors/ambient/pod_index_actor.hpp"
#include "actors/ambient/pod_record.hpp"
#include "actors/system/system_config.hpp"
#include "kube/api/object.hpp"
#include "kube/api/pod.hpp"
#include "kube/client/informer_cache.hpp"
#include "kube/client/messages.hpp"
#include "logging/logging.hpp"

namespace {

using namespace istio_csr;
namespace amb = istio_csr::actors::ambient;
using clock_type = std::chrono::steady_clock;
using json = nlohmann::json;

struct settings {
  int pods = 50000;
  int nodes = 1000;
  int runs = 5;
  int lookups = 200000;
  int round_trips = 20000;
};

// -- the synthetic cluster
// -----------------------------------------------------

struct synthetic_pod {
  std::string ns, name, uid, sa, node;
};

std::string random_string(std::mt19937_64& rng, size_t n,
                          const char* alphabet
                          = "bcdfghjklmnpqrstvwxz2456789") {
  std::string out;
  size_t len = std::char_traits<char>::length(alphabet);
  for (size_t i = 0; i < n; ++i)
    out += alphabet[rng() % len];
  return out;
}

std::string random_uuid(std::mt19937_64& rng) {
  auto hex = random_string(rng, 32, "0123456789abcdef");
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-4" + hex.substr(13, 3)
         + "-a" + hex.substr(17, 3) + "-" + hex.substr(20, 12);
}

/// One ztunnel per node (istio-system/ztunnel), the rest workloads: 100
/// namespaces with 20 service accounts each, deployments' pod names
/// (`<sa>-<hash>-<suffix>`), node names as on EKS.
std::vector<synthetic_pod> make_cluster(const settings& s) {
  std::mt19937_64 rng{42};
  std::vector<synthetic_pod> pods;
  std::vector<std::string> nodes;
  for (int i = 0; i < s.nodes; ++i)
    nodes.push_back("ip-10-0-" + std::to_string(i / 250) + "-"
                    + std::to_string(i % 250) + ".eu-west-1.compute.internal");
  for (int i = 0; i < s.nodes; ++i)
    pods.push_back({"istio-system", "ztunnel-" + random_string(rng, 5),
                    random_uuid(rng), "ztunnel", nodes[i]});
  for (int i = s.nodes; i < s.pods; ++i) {
    int ns = static_cast<int>(rng() % 100);
    int sa = static_cast<int>(rng() % 20);
    auto account = "service-" + std::to_string(sa);
    pods.push_back(
      {"team-" + std::to_string(ns),
       account + "-" + random_string(rng, 10) + "-" + random_string(rng, 5),
       random_uuid(rng), account, nodes[rng() % nodes.size()]});
  }
  return pods;
}

/// The Pod as the API server lists it (a typical small pod).
json pod_object(const synthetic_pod& p) {
  return {
    {"metadata",
     {{"name", p.name},
      {"namespace", p.ns},
      {"uid", p.uid},
      {"resourceVersion", "123456789"},
      {"creationTimestamp", "2024-05-01T10:00:00Z"},
      {"labels", {{"app", p.sa}, {"pod-template-hash", "7d9f8c6b5"}}},
      {"annotations", {{"kubectl.kubernetes.io/restartedAt", "2024"}}}}},
    {"spec",
     {{"serviceAccountName", p.sa},
      {"nodeName", p.node},
      {"containers",
       json::array({{{"name", "app"},
                     {"image", "registry.example/app:1.2.3"},
                     {"ports", json::array({{{"containerPort", 8080}}})}}})}}},
    {"status",
     {{"phase", "Running"},
      {"podIP", "10.1.2.3"},
      {"hostIP", "10.0.0.1"},
      {"startTime", "2024-05-01T10:00:01Z"}}}};
}

// -- measuring
// -----------------------------------------------------------------

size_t heap_in_use() {
  auto mi = mallinfo2();
  return mi.uordblks + mi.hblkhd;
}

size_t rss_bytes() {
  std::ifstream in{"/proc/self/statm"};
  size_t size = 0, resident = 0;
  in >> size >> resident;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

struct memory_mark {
  size_t heap = heap_in_use();
  size_t rss = rss_bytes();
};

void report_memory(const char* what, const memory_mark& before, int pods) {
  malloc_trim(0);
  memory_mark after;
  auto heap
    = static_cast<double>(after.heap) - static_cast<double>(before.heap);
  auto rss = static_cast<double>(after.rss) - static_cast<double>(before.rss);
  std::printf("%-46s heap %8.0f B/pod (%6.1f MiB)   RSS +%6.1f MiB\n", what,
              heap / pods, heap / (1 << 20), rss / (1 << 20));
}

double median(std::vector<double> xs) {
  std::sort(xs.begin(), xs.end());
  return xs[xs.size() / 2];
}

double percentile(std::vector<double> xs, double p) {
  std::sort(xs.begin(), xs.end());
  return xs[std::min(xs.size() - 1, static_cast<size_t>(p * xs.size()))];
}

/// Runs `body(i)` n times per run; prints the median (over runs) of the
/// mean time per call, plus p50/p99 of individually timed calls.
template <class F>
void time_calls(const char* what, const settings& s, int n, F&& body) {
  std::vector<double> means;
  for (int r = 0; r < s.runs; ++r) {
    auto start = clock_type::now();
    for (int i = 0; i < n; ++i)
      body(i);
    std::chrono::duration<double, std::micro> d = clock_type::now() - start;
    means.push_back(d.count() / n);
  }
  std::vector<double> single;
  for (int i = 0; i < std::min(n, 20000); ++i) {
    auto start = clock_type::now();
    body(i);
    std::chrono::duration<double, std::micro> d = clock_type::now() - start;
    single.push_back(d.count());
  }
  std::printf("%-46s mean %7.3f us (median of %d runs of %d)   p50 %7.3f us   "
              "p99 %7.3f us\n",
              what, median(means), s.runs, n, percentile(single, 0.5),
              percentile(single, 0.99));
}

struct query {
  amb::caller_info caller;
  std::string identity;
};

/// Random checks: a ztunnel asking for a workload of its node (allowed) or
/// of another node (mostly denied), half each.
std::vector<query> make_queries(const std::vector<synthetic_pod>& pods,
                                const settings& s) {
  std::mt19937_64 rng{7};
  std::map<std::string, const synthetic_pod*> ztunnel_of;
  for (int i = 0; i < s.nodes; ++i)
    ztunnel_of[pods[i].node] = &pods[i];
  std::vector<query> out;
  for (int i = 0; i < 10000; ++i) {
    const auto& wl = pods[s.nodes + rng() % (pods.size() - s.nodes)];
    const auto* zt = (i % 2 == 0) ? ztunnel_of[wl.node]
                                  : &pods[rng() % static_cast<size_t>(s.nodes)];
    out.push_back({{zt->name, zt->ns, zt->uid, zt->sa},
                   "spiffe://cluster.local/ns/" + wl.ns + "/sa/" + wl.sa});
  }
  return out;
}

// -- the benchmarks
// ------------------------------------------------------------

void bench_memory(const std::vector<synthetic_pod>& pods, const settings& s) {
  std::printf("\n== memory (%d pods, %d nodes)\n", s.pods, s.nodes);
  // Build the API objects first: not part of what is held.
  std::vector<json> objects;
  for (const auto& p : pods)
    objects.push_back(pod_object(p));
  malloc_trim(0);
  {
    memory_mark before;
    std::vector<std::shared_ptr<const json>> stripped;
    for (const auto& obj : objects)
      stripped.push_back(
        std::make_shared<const json>(kube::strip_pod(json(obj))));
    report_memory("stripped JSON objects (kube::strip_pod)", before, s.pods);
  }
  malloc_trim(0);
  // What the agent holds: the informer cache (key, resourceVersion, record)
  // and the index sharing the records.
  memory_mark before_cache;
  kube::informer_cache cache;
  {
    std::map<std::string, kube::informer_cache::entry> items;
    for (const auto& obj : objects) {
      kube::object_ref ref{obj};
      kube::informer_cache::entry e;
      e.resource_version = ref.resource_version();
      e.object = std::make_shared<const json>(amb::make_pod_record(obj));
      items.emplace(kube::object_key(ref.namespace_(), ref.name()),
                    std::move(e));
    }
    cache.replace(std::move(items));
  }
  report_memory("informer cache with compact records", before_cache, s.pods);
  memory_mark before_index;
  amb::pod_index index;
  for (const auto& [key, e] : cache.items())
    index.upsert(e.object);
  report_memory("pod index (sharing the records)", before_index, s.pods);
  report_memory("total held for node authorization", before_cache, s.pods);
  std::printf("index: %zu pods, %zu (account, node) pairs, %zu names\n",
              index.size(), index.pairs(), index.names());
}

void bench_lookups(const std::vector<synthetic_pod>& pods, const settings& s) {
  std::printf("\n== node-authorization checks\n");
  amb::pod_index index;
  for (const auto& p : pods)
    index.upsert(std::make_shared<const json>(amb::pod_record(
      amb::pod_fields{p.ns, p.name, p.uid, p.sa, p.node, "Running"})));
  amb::node_authorizer auth{
    amb::trusted_accounts::parse({"istio-system/ztunnel"}), "cluster.local"};
  auto queries = make_queries(pods, s);
  size_t allowed = 0;
  for (const auto& q : queries)
    allowed += auth.check(index, q.caller, q.identity) ? 0 : 1;
  std::printf("queries: %zu, allowed %zu\n", queries.size(), allowed);
  volatile size_t sink = 0;
  time_calls("pod_index::find (caller pod)", s, s.lookups, [&](int i) {
    const auto& q = queries[i % queries.size()];
    sink = sink
           + index.find(q.caller.pod_namespace, q.caller.pod_name)->uid.size();
  });
  time_calls("pod_index::count_on_node", s, s.lookups, [&](int i) {
    const auto& p = pods[i % pods.size()];
    sink = sink + index.count_on_node(p.ns, p.sa, p.node);
  });
  time_calls("node_authorizer::check (direct)", s, s.lookups, [&](int i) {
    const auto& q = queries[i % queries.size()];
    sink = sink + (auth.check(index, q.caller, q.identity) ? 1 : 0);
  });
  std::shared_mutex mtx;
  time_calls("check under a shared_lock (shared snapshot)", s, s.lookups,
             [&](int i) {
               const auto& q = queries[i % queries.size()];
               std::shared_lock guard{mtx};
               sink = sink + (auth.check(index, q.caller, q.identity) ? 1 : 0);
             });
}

void bench_actor(const std::vector<synthetic_pod>& pods, const settings& s) {
  std::printf("\n== the pod-index actor (request/response)\n");
  actors::system_config cfg;
  caf::actor_system sys{cfg};
  amb::pod_index_options opts;
  opts.trusted = amb::trusted_accounts::parse({"istio-system/ztunnel"});
  auto status = std::make_shared<amb::pod_index_status>();
  auto index = amb::spawn_pod_index(sys, opts, nullptr, status);
  caf::scoped_actor self{sys};
  // A full list arriving: 50,000 added events, then synced.
  std::vector<kube::informer_event> events;
  uint64_t seq = 0;
  for (const auto& p : pods) {
    kube::informer_event ev;
    ev.type = kube::informer_event_type::added;
    ev.object = std::make_shared<const json>(amb::pod_record(
      amb::pod_fields{p.ns, p.name, p.uid, p.sa, p.node, "Running"}));
    ev.sequence = ++seq;
    events.push_back(std::move(ev));
  }
  auto start = clock_type::now();
  for (auto& ev : events)
    self->send(index, amb::pod_event_atom::value, ev);
  self->send(index, amb::pod_event_atom::value,
             kube::informer_event{kube::informer_event_type::synced, nullptr,
                                  nullptr, ++seq});
  self->request(index, caf::infinite, amb::pod_stats_atom::value)
    .receive([](amb::pod_index_stats&) {}, [](caf::error&) {});
  std::chrono::duration<double, std::milli> applied = clock_type::now() - start;
  std::printf("%-46s %7.1f ms (%.2f us per event)\n",
              "apply a full list of events + sync", applied.count(),
              applied.count() * 1000 / pods.size());
  auto queries = make_queries(pods, s);
  time_calls("request/response from a scoped_actor", s, s.round_trips,
             [&](int i) {
               const auto& q = queries[i % queries.size()];
               self
                 ->request(index, caf::infinite, amb::authorize_atom::value,
                           amb::impersonation_request{q.caller, q.identity})
                 .receive([] {}, [](caf::error&) {});
             });
  // Throughput with 8 concurrent requesters (the signer pool's view).
  for (int requesters : {1, 8}) {
    std::vector<double> rates;
    for (int r = 0; r < s.runs; ++r) {
      std::atomic<int> left{requesters};
      auto t0 = clock_type::now();
      int per = s.round_trips / requesters;
      for (int k = 0; k < requesters; ++k)
        sys.spawn(
          [&, per](caf::event_based_actor* a, int k) {
            auto remaining = std::make_shared<int>(per);
            auto next = std::make_shared<std::function<void()>>();
            *next = [=, &queries, &left] {
              if ((*remaining)-- == 0) {
                --left;
                a->quit();
                return;
              }
              const auto& q = queries[(k * 7919 + *remaining) % queries.size()];
              a->request(index, caf::infinite, amb::authorize_atom::value,
                         amb::impersonation_request{q.caller, q.identity})
                .then([next] { (*next)(); },
                      [next](caf::error&) { (*next)(); });
            };
            (*next)();
          },
          k);
      while (left > 0)
        std::this_thread::yield();
      std::chrono::duration<double> d = clock_type::now() - t0;
      rates.push_back(per * requesters / d.count());
    }
    std::printf("%d requester(s), sequential requests each         %9.0f "
                "checks/s (median of %d)\n",
                requesters, median(rates), s.runs);
  }
  caf::anon_send_exit(index, caf::exit_reason::user_shutdown);
}

} // namespace

int main(int argc, char** argv) {
  settings s;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string arg = argv[i];
    int value = std::atoi(argv[i + 1]);
    if (arg == "--pods")
      s.pods = value;
    else if (arg == "--nodes")
      s.nodes = value;
    else if (arg == "--runs")
      s.runs = value;
    else {
      std::fprintf(stderr, "usage: %s [--pods N] [--nodes N] [--runs N]\n",
                   argv[0]);
      return 2;
    }
  }
  if (s.nodes <= 0 || s.pods <= s.nodes || s.runs <= 0) {
    std::fprintf(stderr, "need --pods > --nodes > 0 and --runs > 0\n");
    return 2;
  }
  logging::init({1, logging::format::text});
  auto pods = make_cluster(s);
  bench_memory(pods, s);
  bench_lookups(pods, s);
  bench_actor(pods, s);
  return 0;
}
