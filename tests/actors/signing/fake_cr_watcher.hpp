#pragma once

// A fake cr-watcher for the signer's race tests on CAF's deterministic
// scheduler: it records every wait, withdrawal and sweep, and answers a wait
// only when the test says so. Include only from CAF test translation units.

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "caf/actor.hpp"
#include "caf/error.hpp"
#include "caf/fwd.hpp"
#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include "actors/signing/certificate_requests.hpp"
#include "actors/signing/cr_watcher.hpp"
#include "actors/signing/messages.hpp"
#include "tests/support/fake_kube_client.hpp"

namespace istio_csr::test {

/// The fake's interface: a `cr_watcher_actor` plus the test's answers
/// (`fake_answer_atom`, as the fake kube client).
using fake_cr_watcher_actor = actors::signing::cr_watcher_actor::extend<
  caf::reacts_to<fake_answer_atom, std::size_t,
                 actors::signing::finished_request>,
  caf::reacts_to<fake_answer_atom, std::size_t, caf::error>>;

/// One `(cr_wait_atom, name, waiter)` the fake received.
struct fake_wait {
  std::string name;
  caf::actor_addr waiter;
  /// Answered by the test, or withdrawn (`cr_unwait_atom`: answered
  /// `wait_cancelled`, as the real watcher does).
  bool answered = false;
};

/// What the fake received, shared between the fake and the test.
struct fake_cr_watcher_log {
  std::vector<fake_wait> waits;
  /// The names of every `cr_unwait_atom`, in order.
  std::vector<std::string> unwaits;
  std::size_t sweeps = 0;
};

/// The test's side of a fake cr-watcher (see `fake_kube_client`: answers go
/// through the fake's mailbox).
class fake_cr_watcher {
 public:
  explicit fake_cr_watcher(caf::actor_system& sys);

  fake_cr_watcher(const fake_cr_watcher&) = delete;
  fake_cr_watcher& operator=(const fake_cr_watcher&) = delete;

  actors::signing::cr_watcher_actor handle() const {
    return actor_;
  }

  const fake_cr_watcher_actor& actor() const {
    return actor_;
  }

  const std::vector<fake_wait>& waits() const {
    return log_->waits;
  }

  const std::vector<std::string>& unwaits() const {
    return log_->unwaits;
  }

  /// The one unanswered wait (fails the test when there are none or
  /// several).
  std::size_t pending_one() const;

  /// Answers wait `i` with the final object (delivered when the fake runs).
  void answer(std::size_t i, actors::signing::finished_request cr);

  /// Answers wait `i` with `err` (e.g. `signing_errc::cr_deleted`).
  void fail(std::size_t i, caf::error err);

 private:
  void require_unanswered(std::size_t i) const;

  std::shared_ptr<fake_cr_watcher_log> log_;
  fake_cr_watcher_actor actor_;
};

} // namespace istio_csr::test
