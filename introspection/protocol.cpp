#include "introspection/protocol.hpp"

#include "caf/message.hpp"
#include "caf/message_view.hpp"
#include "caf/scheduled_actor.hpp"
#include "caf/timespan.hpp"

namespace istio_csr::introspection {

void enable(caf::scheduled_actor* self, reporter fn) {
  self->set_default_handler(
    [fn = std::move(fn)](caf::scheduled_actor* ptr,
                         caf::message_view& x) -> caf::result<caf::message> {
      if (!x.content().match_elements<introspect_atom, caf::timespan>())
        return caf::print_and_drop(ptr, x);
      auto r = fn ? fn() : report{};
      actor_info info;
      info.mailbox = mailbox_size(ptr);
      info.state = std::move(r.state);
      info.owned_supervisor = std::move(r.owned_supervisor);
      info.owned_name = std::move(r.owned_name);
      info.owned_starts = r.owned_starts;
      return caf::make_message(std::move(info));
    });
}

uint64_t mailbox_size(caf::scheduled_actor* self) {
  // Not mailbox().size(): it first fetches new arrivals, and that inline
  // code of CAF 0.17.6 (task_queue::lifo_append on an empty queue) casts a
  // list sentinel to a message, undefined behaviour that UBSan reports.
  return self->mailbox().queue().total_task_size();
}

} // namespace istio_csr::introspection
