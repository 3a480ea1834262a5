#pragma once

// Shared by the actor tests: a deterministic actor system, a test worker
// actor with observable state, and a non-blocking way to send requests.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "caf/all.hpp"
#include "caf/test/dsl.hpp"

#include "actors/supervisor/supervisor.hpp"
#include "actors/system/system_config.hpp"
#include "introspection/tree.hpp"

namespace istio_csr::actors::test {

using crash_atom = caf::atom_constant<caf::atom("t_crash")>;
using hold_atom = caf::atom_constant<caf::atom("t_hold")>;
using release_atom = caf::atom_constant<caf::atom("t_release")>;
using whoami_atom = caf::atom_constant<caf::atom("t_whoami")>;
using append_atom = caf::atom_constant<caf::atom("t_append")>;
using received_atom = caf::atom_constant<caf::atom("t_recvd")>;
using quit_atom = caf::atom_constant<caf::atom("t_quit")>;
using relay_atom = caf::atom_constant<caf::atom("t_relay")>;
using sender_atom = caf::atom_constant<caf::atom("t_sender")>;
using delegate_atom = caf::atom_constant<caf::atom("t_delegate")>;

/// What the tests observe across incarnations.
struct probe {
  /// Spawns per child name (first start and restarts).
  std::map<std::string, int> spawns;
  /// "stop NAME#INCARNATION" in termination order.
  std::vector<std::string> stops;
  /// Addresses of the senders of `sender_atom` messages.
  std::vector<caf::actor_addr> senders;
};

/// A worker: a counter, a list of appended values, held requests, and a
/// peer (a sibling's stable handle) it can relay requests to.
caf::behavior worker(caf::event_based_actor* self, std::string name,
                     int incarnation, std::shared_ptr<probe> p,
                     caf::actor peer);

/// A child spec for `worker` that counts spawns and looks up `peer` through
/// the child context.
child_spec worker_spec(std::string name, std::shared_ptr<probe> p,
                       restart_policy restart = restart_policy::permanent,
                       std::string peer = {});

/// Note for actor tests under UBSan: CAF 0.17 dereferences a null pointer
/// when a function-based actor is spawned without extra arguments
/// (caf/detail/init_fun_factory.hpp), so every spawn here passes at least
/// one argument.

/// The outcome of a request.
template <class T>
struct reply {
  bool done = false;
  std::optional<T> value;
  caf::error err;
};

struct fixture : test_coordinator_fixture<actors::system_config> {
  std::shared_ptr<probe> p = std::make_shared<probe>();
  std::vector<give_up_report> give_ups;
  /// Killed at the end of each test: the actor system waits for all actors.
  std::vector<caf::actor> supervisors;
  std::vector<caf::actor> helpers;

  ~fixture() override;

  /// Intensity 3 in 60s, backoff 1s doubling up to 8s, give-up recorded.
  supervisor_options options();

  /// Spawns a supervisor and runs it until idle (no timers).
  supervisor_handle start(std::vector<child_spec> children);
  supervisor_handle start(supervisor_options opts,
                          std::vector<child_spec> children);

  /// Sends a request from a fresh actor; the reply is recorded when the
  /// scheduler runs (so a missing reply is observable, not a hang).
  template <class T, class... Ts>
  std::shared_ptr<reply<T>> ask(const caf::actor& dest, Ts... xs) {
    auto r = std::make_shared<reply<T>>();
    // `r` is passed as a spawn argument, not only captured: CAF 0.17
    // dereferences a null pointer when a function-based actor is spawned
    // without arguments (UBSan aborts).
    helpers.push_back(sys.spawn(
      [=](caf::event_based_actor* s, std::shared_ptr<reply<T>> r) {
        s->request(dest, caf::infinite, xs...)
          .then(
            [=](T& x) {
              r->done = true;
              r->value = std::move(x);
            },
            [=](caf::error& e) {
              r->done = true;
              r->err = std::move(e);
            });
      },
      r));
    return r;
  }

  /// Like `ask` for requests answered with an empty message.
  template <class... Ts>
  std::shared_ptr<reply<bool>> ask_void(const caf::actor& dest, Ts... xs) {
    auto r = std::make_shared<reply<bool>>();
    // `r` is passed as a spawn argument, not only captured: CAF 0.17
    // dereferences a null pointer when a function-based actor is spawned
    // without arguments (UBSan aborts).
    helpers.push_back(sys.spawn(
      [=](caf::event_based_actor* s, std::shared_ptr<reply<bool>> r) {
        s->request(dest, caf::infinite, xs...)
          .then(
            [=]() {
              r->done = true;
              r->value = true;
            },
            [=](caf::error& e) {
              r->done = true;
              r->err = std::move(e);
            });
      },
      r));
    return r;
  }

  /// Runs all actors until idle and returns the reply's value (fails the
  /// test if there is no reply or an error).
  template <class T>
  T value_of(const std::shared_ptr<reply<T>>& r) {
    sched.run();
    CAF_REQUIRE(r->done);
    if (!r->value)
      CAF_FAIL("expected a value, got " << sys.render(r->err));
    return *r->value;
  }

  /// The status of `name` as reported by the supervisor.
  child_status status(const caf::actor& sup, const std::string& name);

  /// Records the exit reason of `x` once it terminates.
  std::shared_ptr<std::optional<caf::error>> watch(const caf::actor& x);

  /// `query_tree` below `root` (within `budget`), the scheduler run until
  /// it answered; fails the test if it does not.
  introspection::tree_node tree(const caf::actor& root,
                                caf::timespan budget = std::chrono::seconds{1});

  /// `kill_node` of the node at `path` in `tree(root)`; the error, if any
  /// (the scheduler runs until the kill is done, restarts wait for time).
  caf::error kill(const caf::actor& root, const std::string& path);

  /// The spawns of `name` so far.
  int spawns(const std::string& name) {
    return p->spawns[name];
  }
};

} // namespace istio_csr::actors::test
