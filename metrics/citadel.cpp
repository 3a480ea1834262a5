#include "metrics/citadel.hpp"

#include <mutex>
#include <unordered_map>

#include "metrics/family.hpp"

namespace istio_csr::metrics {

namespace {

prometheus::Family<prometheus::Counter>& sign_error_family() {
  static auto& f = detail::counter_family(
    "citadel_server_csr_sign_err_count",
    "The number of errors occurred when signing the CSR.");
  return f;
}

} // namespace

counter citadel_handles::sign_error(std::string_view error) const {
  // Errors only: a lookup here is off the path of successful requests.
  static std::mutex mtx;
  static std::unordered_map<std::string, counter> cache;
  std::lock_guard<std::mutex> guard{mtx};
  std::string key{error};
  auto i = cache.find(key);
  if (i == cache.end())
    i = cache.emplace(key, detail::add(sign_error_family(), {{"error", key}}))
          .first;
  return i->second;
}

const citadel_handles& citadel() {
  static const citadel_handles instance = [] {
    using namespace detail;
    citadel_handles h;
    h.csr_count = add(counter_family("citadel_server_csr_count",
                                     "The number of CSRs received by Citadel "
                                     "server."));
    h.authentication_failure
      = add(counter_family("citadel_server_authentication_failure_count",
                           "The number of authentication failures."));
    h.csr_parsing_error
      = add(counter_family("citadel_server_csr_parsing_err_count",
                           "The number of errors occurred when parsing the "
                           "CSR."));
    h.id_extraction_error
      = add(counter_family("citadel_server_id_extraction_err_count",
                           "The number of errors occurred when extracting the "
                           "ID from CSR."));
    h.success = add(counter_family("citadel_server_success_cert_issuance_count",
                                   "The number of certificates issuances that "
                                   "have succeeded."));
    h.root_cert_expiry
      = add(gauge_family("citadel_server_root_cert_expiry_timestamp",
                         "The unix timestamp, in seconds, when Citadel root "
                         "cert will expire. A negative time indicates the "
                         "cert is expired."));
    h.cert_chain_expiry
      = add(gauge_family("citadel_server_cert_chain_expiry_timestamp",
                         "The unix timestamp, in seconds, when Citadel cert "
                         "chain will expire. A negative time indicates the "
                         "cert is expired."));
    sign_error_family();
    return h;
  }();
  return instance;
}

} // namespace istio_csr::metrics
