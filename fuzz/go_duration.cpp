// Time values in Go's and Kubernetes' syntax: Go durations (every duration
// flag, `spec.duration` of cert-manager objects) parsed, printed and parsed
// back; `--kube-api-request-timeout`; RFC 3339 times
// (`metav1.Time`, Lease times) parsed and printed.
//
// Input: the text of one value.

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "config/go_duration.hpp"
#include "config/go_values.hpp"
#include "fuzz/fuzz_input.hpp"
#include "kube/api/time.hpp"

using namespace istio_csr;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  auto in = fuzz::text(data, size);
  if (auto d = config::parse_go_duration(in)) {
    auto text = config::format_go_duration(*d);
    // Go: ParseDuration(d.String()) == d.
    auto again = config::parse_go_duration(text);
    fuzz::require(again && *again == *d, "a printed duration parses back");
  }
  (void)config::parse_kube_timeout(in);
  if (auto t = kube::parse_time(in)) {
    (void)kube::format_time(*t);
    (void)kube::format_micro_time(*t);
  }
  return 0;
}
