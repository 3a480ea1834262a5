#pragma once

// A fake kube-client actor for actor tests on CAF's deterministic scheduler
// (`test_coordinator_fixture`): it records every request and answers each
// one only when the test says so, with an object or a `kube::errc` error.
// Stopped with an exit message (not `kill`), it fails what it did not
// answer (`errc::cancelled`).
// Include only from CAF test translation units.

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "caf/atom.hpp"
#include "caf/error.hpp"
#include "caf/fwd.hpp"
#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include "kube/client/client_actor.hpp"
#include "kube/client/messages.hpp"

namespace istio_csr::test {

/// `(fake_answer_atom, index, kube::response)` or `(fake_answer_atom, index,
/// caf::error)`: the fake answers its request `index` (test side only).
using fake_answer_atom = caf::atom_constant<caf::atom("fk_answer")>;

/// The fake's interface: a `kube::client_actor` plus the test's answers.
using fake_kube_actor = kube::client_actor::extend<
  caf::reacts_to<fake_answer_atom, std::size_t, kube::response>,
  caf::reacts_to<fake_answer_atom, std::size_t, caf::error>>;

/// One request the fake received.
struct fake_kube_call {
  kube::request req;
  /// The test answered it (the answer may still be in the fake's mailbox).
  bool answered = false;
};

/// What the fake received, shared between the fake and the test (both run on
/// the test thread under the deterministic scheduler).
struct fake_kube_log {
  std::vector<fake_kube_call> calls;
};

/// The test's side of a fake kube client:
///
/// ```
/// fake_kube_client kube{sys};
/// auto signer = spawn_csr_signer(sys, opts, {kube.handle(), ...});
/// ...
/// sched.run();
/// auto i = kube.pending_one(kube::verb::create, "tokenreviews");
/// kube.answer(i, review);   // or kube.fail(i, kube::make_error(...))
/// sched.run();              // the fake delivers, the caller handles it
/// ```
///
/// Answers go through the fake's mailbox (a response promise must be
/// delivered from the actor that made it): run the scheduler, or only the
/// fake (`sched.prioritize(kube.actor()); sched.run_once();`) to put the
/// answer into the caller's mailbox without running the caller.
class fake_kube_client {
 public:
  /// Spawns the fake in `sys`.
  explicit fake_kube_client(caf::actor_system& sys);

  fake_kube_client(const fake_kube_client&) = delete;
  fake_kube_client& operator=(const fake_kube_client&) = delete;

  /// The handle to give to the actor under test.
  kube::client_actor handle() const {
    return actor_;
  }

  /// The fake itself (for `sched.prioritize`, `anon_send_exit`).
  const fake_kube_actor& actor() const {
    return actor_;
  }

  /// Requests received so far, in order of arrival.
  std::size_t size() const {
    return log_->calls.size();
  }

  const kube::request& at(std::size_t i) const;

  bool answered(std::size_t i) const;

  /// Indexes of the requests with verb `v` on the resource with plural
  /// `plural` (any resource when empty), oldest first.
  std::vector<std::size_t> find(kube::verb v,
                                const std::string& plural = {}) const;

  /// Like `find`, only the requests not answered yet.
  std::vector<std::size_t> pending(kube::verb v,
                                   const std::string& plural = {}) const;

  /// The one unanswered request matching (fails the test when there are
  /// none or several).
  std::size_t pending_one(kube::verb v, const std::string& plural = {}) const;

  /// Requests not answered yet, of any kind.
  std::size_t unanswered() const;

  /// Answers request `i` with `body` (delivered when the fake runs next).
  void answer(std::size_t i, nlohmann::json body);

  /// Answers request `i` with `err` (e.g. `kube::make_error(errc::...)`).
  void fail(std::size_t i, caf::error err);

 private:
  void require_unanswered(std::size_t i) const;

  std::shared_ptr<fake_kube_log> log_;
  fake_kube_actor actor_;
};

} // namespace istio_csr::test
