#include "tests/actors/signing/fake_cr_watcher.hpp"

#include <unordered_map>

#include "caf/actor_system.hpp"
#include "caf/send.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/test/unit_test.hpp"
#include "caf/typed_event_based_actor.hpp"
#include "caf/typed_response_promise.hpp"

#include "actors/signing/errors.hpp"

namespace istio_csr::test {

namespace {

namespace sg = actors::signing;

struct fake_cr_watcher_state {
  std::shared_ptr<fake_cr_watcher_log> log;
  /// The promise of each wait not answered yet, by index.
  std::unordered_map<std::size_t,
                     caf::typed_response_promise<sg::finished_request>>
    promises;

  static inline const char* name = "fake-cr-watcher";
};

using fake_cr_watcher_pointer
  = fake_cr_watcher_actor::stateful_pointer<fake_cr_watcher_state>;

template <class T>
void deliver(fake_cr_watcher_pointer self, std::size_t i, T&& x) {
  auto j = self->state.promises.find(i);
  if (j == self->state.promises.end())
    return;
  auto rp = std::move(j->second);
  self->state.promises.erase(j);
  rp.deliver(std::forward<T>(x));
}

fake_cr_watcher_actor::behavior_type
fake_cr_watcher_impl(fake_cr_watcher_pointer self,
                     std::shared_ptr<fake_cr_watcher_log> log) {
  self->state.log = std::move(log);
  return {
    [self](sg::cr_wait_atom, std::string& name,
           caf::actor& waiter) -> caf::result<sg::finished_request> {
      auto& st = self->state;
      auto rp = self->make_response_promise<sg::finished_request>();
      st.promises.emplace(st.log->waits.size(), rp);
      st.log->waits.push_back(
        fake_wait{std::move(name), waiter.address(), false});
      return rp;
    },
    [self](sg::cr_unwait_atom, std::string& name) {
      auto& st = self->state;
      st.log->unwaits.push_back(name);
      for (std::size_t i = 0; i < st.log->waits.size(); ++i) {
        auto& w = st.log->waits[i];
        if (w.name == name && st.promises.count(i) > 0) {
          w.answered = true;
          deliver(self, i, sg::make_error(sg::signing_errc::wait_cancelled));
        }
      }
    },
    [self](sg::cr_sweep_atom) { ++self->state.log->sweeps; },
    [self](sg::stats_atom) {
      sg::watcher_stats result;
      result.waits = self->state.promises.size();
      return result;
    },
    [self](fake_answer_atom, std::size_t i, sg::finished_request& cr) {
      deliver(self, i, std::move(cr));
    },
    [self](fake_answer_atom, std::size_t i, caf::error& err) {
      deliver(self, i, std::move(err));
    },
  };
}

} // namespace

fake_cr_watcher::fake_cr_watcher(caf::actor_system& sys)
  : log_(std::make_shared<fake_cr_watcher_log>()),
    actor_(sys.spawn(fake_cr_watcher_impl, log_)) {
  // nop
}

std::size_t fake_cr_watcher::pending_one() const {
  std::vector<std::size_t> xs;
  for (std::size_t i = 0; i < log_->waits.size(); ++i)
    if (!log_->waits[i].answered)
      xs.push_back(i);
  if (xs.size() != 1)
    CAF_FAIL("expected one pending wait, found " << xs.size());
  return xs.front();
}

void fake_cr_watcher::require_unanswered(std::size_t i) const {
  if (i >= log_->waits.size())
    CAF_FAIL("no wait " << i << " (" << log_->waits.size() << " so far)");
  if (log_->waits[i].answered)
    CAF_FAIL("wait " << i << " was answered already");
}

void fake_cr_watcher::answer(std::size_t i, sg::finished_request cr) {
  require_unanswered(i);
  log_->waits[i].answered = true;
  caf::anon_send(actor_, fake_answer_atom::value, i, std::move(cr));
}

void fake_cr_watcher::fail(std::size_t i, caf::error err) {
  require_unanswered(i);
  log_->waits[i].answered = true;
  caf::anon_send(actor_, fake_answer_atom::value, i, std::move(err));
}

} // namespace istio_csr::test
