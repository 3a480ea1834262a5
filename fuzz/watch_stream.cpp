// A watch stream from the API server, as the informer consumes it: the
// decoder (`watch_decoder`: bytes split anywhere, object boundaries found
// by scanning), then each event into the informer cache (key, pod
// transform, resourceVersion) or, for ERROR, the error it becomes.
//
// Input: a byte that sets the chunk size (1 to 64 bytes; 0: everything at
// once), then the stream body (chunked framing already removed, as Beast
// delivers it).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "errors/describe.hpp"
#include "fuzz/fuzz_input.hpp"
#include "kube/api/object.hpp"
#include "kube/api/pod.hpp"
#include "kube/api/status.hpp"
#include "kube/client/informer_cache.hpp"
#include "kube/client/watch_event.hpp"

using namespace istio_csr;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  auto in = fuzz::text(data, size);
  auto setting = fuzz::take_byte(in) % 65;
  std::size_t chunk = setting == 0 ? in.size() : setting;
  kube::watch_decoder decoder;
  kube::informer_cache cache;
  std::vector<kube::watch_event> events;
  bool failed = false;
  while (!in.empty() && !failed) {
    auto n = std::min(chunk, in.size());
    failed = static_cast<bool>(decoder.feed(in.substr(0, n), events));
    in.remove_prefix(n);
    for (auto& ev : events) {
      if (ev.type == kube::watch_event_type::error) {
        (void)errors::describe(kube::error_from_status(ev.object));
        continue;
      }
      kube::object_ref ref{ev.object};
      if (ev.type == kube::watch_event_type::bookmark) {
        (void)ref.resource_version();
        continue;
      }
      auto key = kube::object_key(ref.namespace_(), ref.name());
      kube::informer_cache::entry entry;
      entry.resource_version = ref.resource_version();
      entry.object = std::make_shared<const nlohmann::json>(
        kube::strip_pod(std::move(ev.object)));
      (void)cache.apply(ev.type, key, std::move(entry));
    }
    events.clear();
  }
  if (!failed)
    (void)decoder.finish();
  fuzz::require(decoder.buffered() <= kube::watch_decoder::max_event_size,
                "the decoder's buffer is bounded");
  return 0;
}
