#include "actors/reconcile/result.hpp"

namespace istio_csr::actors::reconcile {

std::string to_string(result::kind x) {
  switch (x) {
    case result::kind::done: return "done";
    case result::kind::requeue_after: return "requeue_after";
    case result::kind::conflict: return "conflict";
    case result::kind::error: return "error";
  }
  return "result::kind(" + std::to_string(static_cast<int>(x)) + ")";
}

} // namespace istio_csr::actors::reconcile
