// A TokenReview answer from the API server: the view the signer reads and
// the Kube JWT authenticator's decision on it (`review_identity`), then the
// cache of successful reviews, whose entries are read back the same way.
//
// Input: JSON, parsed as the Kubernetes client parses answers.

#include <chrono>
#include <cstddef>
#include <cstdint>

#include <nlohmann/json.hpp>

#include "actors/signing/policy/kube_jwt.hpp"
#include "actors/signing/token_review_cache.hpp"
#include "fuzz/fuzz_input.hpp"
#include "kube/api/token_review.hpp"

using namespace istio_csr;
namespace signing = istio_csr::actors::signing;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  auto review = nlohmann::json::parse(fuzz::text(data, size), nullptr, false);
  if (review.is_discarded())
    return 0;
  kube::token_review_view view{review};
  (void)view.authenticated();
  (void)view.error();
  (void)view.username();
  (void)view.uid();
  (void)view.groups();
  (void)view.extra();
  (void)view.audiences();
  auto who = signing::policy::review_identity("cluster.local", review);
  if (!who || !review.contains("status"))
    return 0;
  fuzz::require(who->identities.size() == 1, "one identity per review");
  // As the signer caches it: the status alone, read back wrapped.
  signing::token_review_cache cache{std::chrono::seconds{10}};
  auto key = signing::token_review_cache::key_of("a.b.c", {});
  auto now = signing::token_review_cache::time_point{};
  cache.insert(key, "a.b.c", review.at("status"), now);
  auto status = cache.find(key, now);
  fuzz::require(status.has_value(), "a fresh entry is found");
  auto again = signing::policy::review_identity(
    "cluster.local", nlohmann::json{{"status", *status}});
  fuzz::require(again && again->identities == who->identities
                  && again->pod_name == who->pod_name
                  && again->pod_uid == who->pod_uid,
                "a cached review reads as the review did");
  return 0;
}
