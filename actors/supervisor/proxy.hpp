#pragma once

#include <string>

#include "caf/actor.hpp"
#include "caf/allowed_unsafe_message_type.hpp"
#include "caf/fwd.hpp"

namespace istio_csr::actors {

/// Spawns the stable handle of the supervised child `child_name`: a
/// forwarding proxy that outlives the child's incarnations. Siblings and the
/// gRPC bridge hold this handle, never an incarnation's.
///
/// Semantics (the "no request lost or left hanging" contract):
/// - While an incarnation runs, every message is forwarded to it in arrival
///   order. Asynchronous messages keep their original sender. Requests are
///   re-issued by the proxy and the response is relayed to the original
///   requester, so inside a request handler `current_sender()` is the proxy:
///   answer through the handler's result or a response promise, never by
///   sending to `current_sender()`.
/// - While no incarnation runs (crashed, waiting for its backoff, not
///   started yet), messages are buffered and flushed to the next
///   incarnation in arrival order.
/// - A request that the dead incarnation never started (still queued in its
///   mailbox, or forwarded after it died) is bounced back by CAF and
///   re-delivered to the next incarnation, in its original place in the
///   order as far as it is still buffered.
/// - A request the incarnation had started (being handled, or held in a
///   response promise) fails with `supervisor_errc::child_restarted` as soon
///   as the proxy learns the incarnation is gone: never silence. CAF 0.17
///   itself would leave a held promise unanswered.
/// - A request the incarnation delegated to an actor that is gone fails with
///   CAF's `sec::request_receiver_down`, as without the proxy. (Both bounces
///   look alike; the proxy tells them apart by whether the incarnation's
///   mailbox is closed. If the incarnation dies at the very moment such a
///   delegated request bounces, the request is re-delivered.)
/// - Asynchronous messages queued in a crashed incarnation's mailbox are
///   lost with it (use requests for anything that must not be lost).
/// - When the proxy stops (the child is removed, not restarted, or its
///   supervisor shuts down), buffered and in-flight requests fail with
///   `supervisor_errc::child_stopped`; later requests get CAF's
///   `sec::request_receiver_down`.
/// - A non-normal exit message stops the proxy; only the supervisor sends
///   one.
///
/// Cost: one extra message hop per response, and per request that failed
/// with `child_restarted` a small response-handler entry that CAF keeps
/// until the proxy terminates (CAF 0.17 has no API to drop it).
caf::actor spawn_proxy(caf::actor_system& sys, std::string child_name);

namespace detail {

/// Supervisor to proxy: `target` is the child's new incarnation; the
/// previous one, if any, is dead.
struct proxy_attach {
  caf::actor target;
};

} // namespace detail

} // namespace istio_csr::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(istio_csr::actors::detail::proxy_attach)
