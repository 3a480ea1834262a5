#include "kube/api/lease.hpp"

#include "kube/api/time.hpp"

namespace istio_csr::kube {

lease_spec lease_view::spec() const {
  lease_spec result;
  result.holder_identity = string_at(json(), {"spec", "holderIdentity"});
  if (auto d = member_at(json(), {"spec", "leaseDurationSeconds"});
      d != nullptr && d->is_number_integer())
    result.lease_duration = std::chrono::seconds{d->get<int64_t>()};
  if (auto t = string_at(json(), {"spec", "acquireTime"}); !t.empty())
    result.acquire_time = parse_time(t);
  if (auto t = string_at(json(), {"spec", "renewTime"}); !t.empty())
    result.renew_time = parse_time(t);
  if (auto n = member_at(json(), {"spec", "leaseTransitions"});
      n != nullptr && n->is_number_integer())
    result.lease_transitions = n->get<int>();
  return result;
}

nlohmann::json lease_spec_json(const lease_spec& spec) {
  auto result = nlohmann::json::object();
  if (!spec.holder_identity.empty())
    result["holderIdentity"] = spec.holder_identity;
  if (spec.lease_duration.count() > 0)
    result["leaseDurationSeconds"] = spec.lease_duration.count();
  if (spec.acquire_time)
    result["acquireTime"] = format_micro_time(*spec.acquire_time);
  if (spec.renew_time)
    result["renewTime"] = format_micro_time(*spec.renew_time);
  result["leaseTransitions"] = spec.lease_transitions;
  return result;
}

nlohmann::json make_lease(std::string_view namespace_, std::string_view name,
                          const lease_spec& spec) {
  return nlohmann::json{{"apiVersion", "coordination.k8s.io/v1"},
                        {"kind", "Lease"},
                        {"metadata", make_metadata(namespace_, name)},
                        {"spec", lease_spec_json(spec)}};
}

} // namespace istio_csr::kube
