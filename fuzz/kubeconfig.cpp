// kubeconfig YAML (`--kubeconfig`, `$KUBECONFIG`), parsed with yaml-cpp into
// clusters, users and contexts (`*-data` fields base64-decoded), merged as
// kubectl merges several files.
//
// Input: the file's text.

#include <cstddef>
#include <cstdint>

#include "fuzz/fuzz_input.hpp"
#include "kube/client/kubeconfig.hpp"

using namespace istio_csr;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  auto in = fuzz::text(data, size);
  auto config = kube::parse_kubeconfig(in, "/fuzz/kubeconfig");
  if (!config)
    return 0;
  for (const auto& [name, user] : config->users)
    (void)kube::field_path(user.from, "users", "token");
  kube::kubeconfig merged;
  merged.merge(*config);
  merged.merge(*config);
  fuzz::require(merged.clusters.size() == config->clusters.size()
                  && merged.users.size() == config->users.size()
                  && merged.contexts.size() == config->contexts.size(),
                "merging a config twice adds nothing");
  return 0;
}
