#pragma once

#include <stop_token>

#include "kube/client/request.hpp"

namespace istio_csr::kube {

/// The requests of one requester, cancelled together (`request::cancel`)
/// when the scope ends. A member of a requesting actor's state: CAF destroys
/// the state when the actor terminates, however it terminates (killed,
/// failed, stopped), so what the actor asked for and the client has not
/// sent yet is never sent after it is gone. A leader-only actor killed when
/// leadership is lost thus writes nothing afterwards.
///
/// ```
/// struct my_state {
///   kube::cancel_scope requests;
///   ...
/// };
/// self->request(kube, timeout,
///               st.requests.bind(kube::request::update(res, object)));
/// ```
///
/// The scope and not the façade knows the requester: requests reach the
/// `kube-client` façade through its stable handle, a forwarding proxy
/// that is the sender of everything the façade gets. Clean-up that must
/// happen after the requester is gone (deleting a CertificateRequest it
/// created, releasing the Lease) is sent unbound.
class cancel_scope {
 public:
  cancel_scope() = default;

  ~cancel_scope() {
    source_.request_stop();
  }

  cancel_scope(const cancel_scope&) = delete;
  cancel_scope& operator=(const cancel_scope&) = delete;

  /// `req`, cancelled with this scope.
  request bind(request req) const {
    req.cancel = source_.get_token();
    return req;
  }

  /// Cancels every request bound to this scope (later ones at once).
  void cancel() noexcept {
    source_.request_stop();
  }

 private:
  std::stop_source source_;
};

} // namespace istio_csr::kube
