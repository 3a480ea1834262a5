// The cost metrics add to one signing request: every metric operation the
// signing path performs per CreateCertificate call, in the order it does
// them (the gRPC families and the in-flight gauge in the bridge, istiod's
// counters at dispatch and outcome, the TokenReview and issuer-wait
// histograms and the waiting gauge in the signer, and the three Kubernetes
// API calls of a request: TokenReview, CertificateRequest create and
// delete), timed alone and from several threads at once; then the cost of
// one scrape. Options: --requests N --threads N --runs N.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "metrics/citadel.hpp"
#include "metrics/grpc_server.hpp"
#include "metrics/handles.hpp"
#include "metrics/istio_csr.hpp"
#include "metrics/registry.hpp"
#include "metrics/rest_client.hpp"

namespace {

using namespace istio_csr;
using clock_type = std::chrono::steady_clock;

/// What one successful request records, as the code does it; without the
/// Kubernetes client's part when `kube` is false.
void one_request(bool kube = true) {
  // grpc_bridge/service.cpp: the reactor.
  auto started = clock_type::now();
  metrics::gauge_hold in_flight{metrics::ours().requests_in_flight};
  const auto& g = metrics::grpc_server_series();
  g.started.inc();
  g.msg_received.inc();
  // actors/signing/dispatcher.cpp: one CSR in.
  metrics::citadel().csr_count.inc();
  // csr_signer: TokenReview, then the CertificateRequest and its wait.
  if (kube)
    metrics::rest_client_request("POST", 201, "10.96.0.1:443", 0.002);
  metrics::ours().token_review.observe(0.002);
  if (kube)
    metrics::rest_client_request("POST", 201, "10.96.0.1:443", 0.003);
  metrics::gauge_hold waiting{metrics::ours().certificate_requests_waiting};
  metrics::ours().issuer_wait.observe(0.05);
  waiting.release();
  // The outcome (the reply's observer) and the answer.
  metrics::citadel().success.inc();
  g.msg_sent.inc();
  g.handled_with(0).inc();
  g.handling_seconds.observe(
    std::chrono::duration<double>(clock_type::now() - started).count());
  // The CertificateRequest's delete.
  if (kube)
    metrics::rest_client_request("DELETE", 200, "10.96.0.1:443", 0.002);
}

double median(std::vector<double> xs) {
  std::sort(xs.begin(), xs.end());
  return xs[xs.size() / 2];
}

/// ns per request with `threads` threads doing `requests` each.
double run(int threads, int requests, bool kube = true) {
  std::atomic<bool> go{false};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      while (!go)
        std::this_thread::yield();
      for (int i = 0; i < requests; ++i)
        one_request(kube);
    });
  auto t0 = clock_type::now();
  go = true;
  for (auto& th : pool)
    th.join();
  auto elapsed
    = std::chrono::duration<double, std::nano>(clock_type::now() - t0);
  return elapsed.count() / (static_cast<double>(requests) * threads);
}

} // namespace

int main(int argc, char** argv) {
  int requests = 200000;
  int threads = 2;
  int runs = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string arg = argv[i];
    int value = std::atoi(argv[i + 1]);
    if (arg == "--requests")
      requests = value;
    else if (arg == "--threads")
      threads = value;
    else if (arg == "--runs")
      runs = value;
  }
  one_request(); // families made, series cached
  std::printf("== metrics recorded per signing request (%d requests, median "
              "of %d runs)\n",
              requests, runs);
  for (int t : {1, threads}) {
    std::vector<double> xs;
    for (int r = 0; r < runs; ++r)
      xs.push_back(run(t, requests / t));
    std::printf("%d thread(s)                                   %8.0f ns per "
                "request\n",
                t, median(xs));
  }
  {
    std::vector<double> xs;
    for (int r = 0; r < runs; ++r)
      xs.push_back(run(1, requests, false));
    std::printf("1 thread, without the 3 rest_client_* calls      %8.0f ns per "
                "request\n",
                median(xs));
  }
  std::vector<double> scrapes;
  std::size_t bytes = 0;
  for (int r = 0; r < 20; ++r) {
    auto t0 = clock_type::now();
    bytes = metrics::scrape().size();
    scrapes.push_back(
      std::chrono::duration<double, std::micro>(clock_type::now() - t0)
        .count());
  }
  std::printf("== one scrape (%zu bytes)                     %8.0f us "
              "(median of 20)\n",
              bytes, median(scrapes));
  return 0;
}
