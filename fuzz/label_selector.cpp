// Label and field selectors (`--controller-configmap-namespace-selector`
// and friends, the selectors the agent sends): parsing, the canonical form
// sent to the API server, and matching.
//
// Input: the selector text.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include "fuzz/fuzz_input.hpp"
#include "kube/api/label_selector.hpp"

using namespace istio_csr;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  auto in = fuzz::text(data, size);
  if (auto labels = kube::label_selector::parse(in)) {
    auto text = labels->to_string();
    auto again = kube::label_selector::parse(text);
    fuzz::require(static_cast<bool>(again), "the canonical form parses");
    fuzz::require(again->requirements() == labels->requirements(),
                  "the canonical form means the same");
    fuzz::require(again->to_string() == text, "the canonical form is stable");
    // Labels that satisfy one requirement each, and none.
    std::map<std::string, std::string> some;
    for (const auto& r : labels->requirements())
      some.emplace(r.key, r.values.empty() ? "" : r.values.front());
    (void)labels->matches(some);
    (void)labels->matches({});
  }
  if (auto fields = kube::field_selector::parse(in)) {
    auto text = fields->to_string();
    auto again = kube::field_selector::parse(text);
    fuzz::require(static_cast<bool>(again), "the canonical field form parses");
    fuzz::require(again->to_string() == text,
                  "the canonical field form is stable");
    (void)fields->matches([](const std::string&) { return std::string{}; });
  }
  return 0;
}
